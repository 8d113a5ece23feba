"""Seconds per training step and per sampling step of notebook 09's diffusion U-Net.

Usage (from the repository root):

    python benchmarks/diffusion_speed.py                      # the full-mode recipe's U-Net
    python benchmarks/diffusion_speed.py --smoke              # the smoke-mode U-Net
    python benchmarks/diffusion_speed.py --channels 16 32 64  # another width
    python benchmarks/diffusion_speed.py --threads 1

It times, with random data (no data set needed):

* one training step (``diffusion_step``: loss, backward, AdamW, EMA) on a batch of the
  recipe's size, and projects the time of one epoch of 60,000 digits and of the recipe;
* one sampling step (one U-Net forward pass per image) for a batch of 500 images, without
  guidance and with it (a doubled batch), and projects DDPM (1,000 steps) and DDIM (50
  steps) per 1,000 samples.

It prints the load average before and after, so that figures from a busy machine can be
told apart from quiet ones (on a shared machine, ``--threads 1`` is often faster).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

import torch
from torch.utils.flop_counter import FlopCounterMode

import course_utils as cu
from course_utils import diffusion


def best_of(fn, repeat: int) -> float:
    """Best wall-clock seconds of `repeat` calls of fn, after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="the smoke-mode recipe")
    parser.add_argument("--channels", type=int, nargs=3, default=None, help="U-Net widths c1 c2 c3")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions (best is kept)")
    parser.add_argument("--sample-batch", type=int, default=500, help="images per sampling batch")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = cu.get_settings({"COURSE_SMOKE": "1" if args.smoke else "0"})
    config = diffusion.diffusion_recipe(settings)
    if args.channels:
        config = replace(config, channels=tuple(args.channels))
    device = cu.get_device(verbose=False)
    load_before = os.getloadavg()
    torch.manual_seed(0)
    model, ema, schedule = config.build(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    step = diffusion.diffusion_step(model, ema, optimizer, schedule, p_uncond=config.p_uncond,
                                    ema_decay=config.ema_decay)
    B = config.batch_size
    batch = (torch.rand(B, 1, 28, 28) * 2 - 1, torch.randint(0, 10, (B,)))
    train_s = best_of(lambda: step(batch), args.repeat)

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        one = torch.ones(1, dtype=torch.long, device=device)
        model(batch[0][:1].to(device), one, batch[1][:1].to(device))
    mflop = counter.get_total_flops() / 1e6
    n = args.sample_batch
    x = torch.randn(n, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (n,), device=device)
    ema.eval()
    plain_s = best_of(lambda: diffusion.predict_eps(ema, x, 500, y, 0.0), args.repeat)
    guided_s = best_of(lambda: diffusion.predict_eps(ema, x, 500, y, 2.0), args.repeat)
    load_after = os.getloadavg()

    steps_per_epoch = 60_000 // B
    print(f"U-Net {config.channels}: {cu.count_parameters(model):,} parameters, {mflop:.0f} MFLOP per image "
          f"per forward pass; {torch.get_num_threads()} threads, device {device}")
    print(f"training: {1000 * train_s:.0f} ms per step of {B} images ({1000 * train_s / B:.2f} ms/image); "
          f"one epoch of 60,000 digits about {steps_per_epoch * train_s:.0f} s; "
          f"{config.epochs} epochs about {config.epochs * steps_per_epoch * train_s / 60:.1f} min")
    for name, s in [("without guidance", plain_s), ("with guidance", guided_s)]:
        per_image = s / n
        print(f"sampling {name}: {1000 * s:.0f} ms per step of {n} images "
              f"({1000 * per_image:.3f} ms/image); "
              f"per 1,000 samples: DDPM (1,000 steps) {1000 * 1000 * per_image:.0f} s, "
              f"DDIM 50 steps {50 * 1000 * per_image:.1f} s")
    print(f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after")


if __name__ == "__main__":
    main()
