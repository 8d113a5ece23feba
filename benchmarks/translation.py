"""Speed of notebook 08's image-to-image translation: training steps and forward passes.

Times, with freshly initialised networks (speed does not depend on the weights, so no trained
checkpoint is needed):

* one **training step** of each of notebook 08's full-mode recipes: pix2pix colourisation with L1
  alone and with L1 + GAN (4 crops of 64 px), the CycleGAN and its ablation without the cycle
  and identity losses (one 64 px crop per domain); from them the full-mode training time of the
  notebook's four runs is estimated (``--p2p-steps``, ``--cycle-steps``);
* one **forward pass** (``cu.translation.translate``, as the notebook calls it) of the
  colouriser, of the CycleGAN generator we train (width 16, 3 residual blocks) and of the paper's
  generator (width 64, 9 blocks: the size of vintagify's trained network), at each size.

Run it on a quiet machine (the load average is printed) from the repository root:

    COURSE_DATA_DIR=../shared/data python benchmarks/translation.py
    python benchmarks/translation.py --sizes 256 512 --threads 2

Each time is the median of ``--repeats`` runs after a warm-up; CPU time (all threads summed) is
printed next to wall time. On a busy machine with more runnable processes than cores, CPU time
per step grows far beyond wall time x threads for these small networks (the threads wait for each
other at every small operation); ``--threads 1`` then gives the steadier number.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import machine_line, timed  # noqa: E402  (benchmarks/_timing.py)

import course_utils as cu  # noqa: E402
from course_utils import translation as T  # noqa: E402


def training_steps(args, settings, device) -> None:
    """One step of each full-mode recipe, and the estimated training time of notebook 08's four runs."""
    full = cu.get_settings({**os.environ, "COURSE_SMOKE": "0"})
    domains = T.offline_domains(settings, report=None)
    recipes = {"pix2pix, L1 alone": T.pix2pix_recipe(full, domains, gan=False),
               "pix2pix, L1 + GAN": T.pix2pix_recipe(full, domains, gan=True),
               "CycleGAN": T.cyclegan_recipe(full, domains),
               "CycleGAN, no cycle loss": T.cyclegan_recipe(full, domains, cycle=False)}
    steps = {name: args.p2p_steps if name.startswith("pix2pix") else args.cycle_steps for name in recipes}
    print(f"\ntraining steps (full-mode recipes, {domains.name}):")
    total = 0.0
    for name, config in recipes.items():
        torch.manual_seed(0)
        nets = config.build_models(device)
        step = config.build_step(nets, config.build_optimizers(nets), device)
        data = config.dataset(domains)
        batch = torch.utils.data.default_collate([data[i] for i in range(config.batch_size)])
        wall, cpu = timed(lambda step=step, batch=batch: step(batch), device, args.repeats)
        total += steps[name] * wall / 1000
        print(f"  {name:<25} {wall:8.1f} ms wall {cpu:8.1f} ms CPU per step ({config.batch_size} x "
              f"{config.crop} px); {steps[name]} steps -> {steps[name] * wall / 1000:6.0f} s")
    print(f"  all training of notebook 08's full mode: {total / 60:.1f} min")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512], help="longer side in pixels")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--p2p-steps", type=int, default=1500, help="notebook 08's P2P_STEPS (2 runs)")
    parser.add_argument("--cycle-steps", type=int, default=3000, help="notebook 08's CYCLE_STEPS (2 runs)")
    parser.add_argument("--no-train", action="store_true", help="forward passes only")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    settings = cu.get_settings()
    device = cu.get_device(verbose=False)
    print(machine_line(device))
    photo = cu.load_image(cu.fetch_asset("tubingen.jpg", settings))
    torch.manual_seed(0)
    nets = {"colouriser (U-Net 32-64-128-128)": T.Colorizer(),
            "CycleGAN generator (16, 3 blocks)": T.ResnetGenerator(16, 3),
            "paper's generator (64, 9 blocks)": T.ResnetGenerator(64, 9)}
    nets = {name: net.to(device).eval() for name, net in nets.items()}
    print("parameters: " + ", ".join(f"{n} {cu.count_parameters(m):,}" for n, m in nets.items()))
    for size in args.sizes:
        p = cu.style.resize(photo, size)
        print(f"\nforward pass, {size} px ({p.shape[2]}x{p.shape[1]}):")
        for name, net in nets.items():
            wall, cpu = timed(lambda net=net, p=p: T.translate(net, p), device, args.repeats)
            print(f"  {name:<36} {wall:9.1f} ms wall {cpu:9.1f} ms CPU")
    if not args.no_train:
        training_steps(args, settings, device)


if __name__ == "__main__":
    main()
