"""Notebook 06's Inception-v3 columns outside the notebook, for a chosen number of images per set.

    COURSE_DATA_DIR=/path/to/full/data COURSE_CHECKPOINT_DIR=/path/to/full/checkpoints \\
        python benchmarks/inception_fid.py --n 1000 --out build/inception_fid.json

Same protocol as notebook 06 (seeded split of the test digits into halves A and B; the first
``n`` of each set; DCGAN, VAE and conditional GAN samples drawn with the notebook's seeds),
with the models of notebooks 03-05 loaded by name (trained first if missing), and with
``--diffusion`` notebook 09's diffusion model (DDIM, ``--steps`` steps, guidance ``--w``,
``--eta``: the settings of notebook 09's table, which its full run prints). Prints and
saves FID and KID in Inception-v3 space and, for the same images, in the course classifier's
space, with the time the Inception features took and the machine's load. Notebook 06 in full
mode uses n = 5,000; a smaller n gives a larger (upward-biased) FID, so say n next to any number.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import torch

import course_utils as cu
from course_utils import metrics
from course_utils.metrics.frechet import SmallSampleWarning


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="images per set (notebook 06 full mode: 5000)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--diffusion", action="store_true",
                        help="add notebook 09's diffusion model (trained first if missing: about 20 min)")
    parser.add_argument("--steps", type=int, default=50, help="DDIM steps of the diffusion samples")
    parser.add_argument("--w", type=float, default=0.0, help="guidance scale of the diffusion samples")
    parser.add_argument("--eta", type=float, default=1.0, help="DDIM eta of the diffusion samples")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep each set's Inception features here and reuse them (to add --diffusion "
                             "later); delete it when the models change")
    args = parser.parse_args()
    settings, device = cu.get_settings(), cu.get_device()
    x_test, y_test = cu.mnist_tensors(settings, train=False)
    perm = torch.randperm(len(x_test), generator=torch.Generator().manual_seed(0))
    half = len(x_test) // 2
    real_a, real_b = x_test[perm[:half]], x_test[perm[half:2 * half]]
    n = min(args.n, half)
    gan, (vae, _) = cu.zoo.dcgan(settings, device), cu.zoo.vae(settings, device)
    cgan = cu.zoo.cgan(settings, device)
    cgan_labels = torch.arange(10).repeat(half // 10 + 1)[:half]
    sets = {"real (test half A)": real_a, "real (test half B)": real_b, "DCGAN": gan.sample(half, seed=1),
            "VAE": vae.sample(half, generator=torch.Generator().manual_seed(1)).cpu(),
            "conditional GAN": cgan.sample(half, seed=1, labels=cgan_labels)}
    if args.diffusion:  # notebook 09's table: seed 1, labels 0-9 in turn, as for the conditional GAN
        run = cu.diffusion.train_diffusion(cu.diffusion.diffusion_recipe(settings), settings, device)
        name = f"diffusion (DDIM {args.steps}, w = {args.w:g}, eta = {args.eta:g})"
        sets[name] = run.sample(n, seed=1, labels=cgan_labels[:n], w=args.w, steps=args.steps, eta=args.eta,
                                progress_bar=True)
    inception = metrics.load_inception(settings, device=device)
    classifier, _ = cu.zoo.mnist_classifier(settings, device)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    psi, computed = {}, 0
    for name, x in sets.items():
        slug = "".join(c if c.isalnum() else "_" for c in name)
        path = args.cache / f"{slug}_{n}.pt" if args.cache else None
        if path is not None and path.exists():
            psi[name] = torch.load(path, weights_only=True)
            continue
        psi[name] = metrics.extract_features(inception, x[:n], batch_size=32)      # [n, 2048]
        computed += 1
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            cu.checkpoints.atomic_save(psi[name], path)
    seconds = time.perf_counter() - t0
    phi = {name: metrics.extract_features(classifier, x[:n], value_range=(0, 1), device=device)
           for name, x in sets.items()}
    rows = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        for name in list(sets)[1:]:
            row = {}
            for space, f in (("classifier", phi), ("Inception", psi)):
                k = metrics.kid(f["real (test half A)"], f[name])
                row[space] = {"fid": metrics.fid(f["real (test half A)"], f[name]), "kid": k.mean,
                              "kid_std": k.std}
            rows[name] = row
            print(f"{name:>20}: classifier FID {row['classifier']['fid']:8.2f}  Inception FID "
                  f"{row['Inception']['fid']:8.2f}  Inception KID {1e3 * row['Inception']['kid']:7.2f} "
                  f"± {1e3 * row['Inception']['kid_std']:.2f} (x 1e-3)")
    record = {"n": n, "sets": len(sets), "sets_computed": computed, "inception_seconds": seconds,
              "images_per_second": computed * n / seconds if computed else float("nan"),
              "load_before": load_before, "load_after": os.getloadavg(), "threads": torch.get_num_threads(),
              "data_dir": str(settings.data_dir), "torch": torch.__version__, "rows": rows}
    print(f"Inception features of {computed} x {n} images in {seconds:.0f} s "
          f"({record['images_per_second']:.2f} images/s, {torch.get_num_threads()} threads, "
          f"load {load_before[0]:.1f})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
