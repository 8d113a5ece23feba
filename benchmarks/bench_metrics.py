"""Timing of the evaluation metrics at the sizes notebook 06 uses (10,000 vs 10,000).

Run from the repository root:

    PYTHONPATH=$PWD python benchmarks/bench_metrics.py [--n 10000] [--threads 2] [--inception 64]

Features are synthetic (Gaussian, 128-d like the course classifier's ``embed``): the
cost of FID, KID and precision/recall depends only on N and D, not on the values.
Feature extraction and the memorisation check use random images of MNIST's shape.
``--inception N`` also times the FID Inception-v3 (notebook 06, section 10) on N such images
(fetched into the data folder or the user cache on first use).
"""

from __future__ import annotations

import argparse
import os
import time

import torch

import course_utils as cu
from course_utils import metrics as M


def timed(label: str, fn, rows: list) -> object:
    start = time.perf_counter()
    out = fn()
    rows.append((label, time.perf_counter() - start))
    print(f"{label:<58} {rows[-1][1]:7.2f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="samples per set")
    parser.add_argument("--dim", type=int, default=128, help="feature dimension")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--inception", type=int, default=0, help="also time Inception-v3 on this many digits")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    n, d = args.n, args.dim
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"load average {load:.2f}; N = {n} vs {n}, D = {d}\n")
    g = torch.Generator().manual_seed(0)
    real = torch.randn(n, d, generator=g, dtype=torch.float64)
    fake = torch.randn(n, d, generator=g, dtype=torch.float64) * 1.1 + 0.1
    rows: list = []
    timed(f"FID ({d}-d features)", lambda: M.fid(real, fake), rows)
    timed("KID (100 subsets of 1,000)", lambda: M.kid(real, fake), rows)
    timed("precision/recall (k=3)", lambda: M.precision_recall(real, fake), rows)
    probs = torch.randn(n, 10, generator=g).softmax(1)
    timed("Inception-style score (10 splits)", lambda: M.inception_score(probs), rows)

    classifier = cu.MnistClassifier().eval()
    images = torch.rand(n, 1, 28, 28, generator=g)
    timed("extract_features: MnistClassifier.embed, 10,000 digits" if n == 10_000 else
          f"extract_features: MnistClassifier.embed, {n} digits",
          lambda: M.extract_features(classifier, images), rows)
    train = torch.rand(min(n, 8000), 1, 28, 28, generator=g)
    test = torch.rand(2000, 1, 28, 28, generator=g)
    timed(f"memorisation_check in pixels ({n} samples, {len(train)} train)",
          lambda: M.memorisation_check(images, train, test), rows)
    photo = torch.rand(1, 3, 512, 512, generator=g)
    timed("SSIM of one 512x512 RGB pair", lambda: M.ssim(photo, photo.flip(-1)), rows)
    if args.inception:
        net = timed("load the FID Inception-v3 (sha256 check, TorchScript)",
                    lambda: M.load_inception(cu.get_settings()), rows)
        timed(f"extract_features: Inception-v3, {args.inception} digits (299 px)",
              lambda: M.extract_features(net, images[:args.inception], batch_size=32), rows)
    print(f"\ntotal {sum(t for _, t in rows):.1f} s")


if __name__ == "__main__":
    main()
