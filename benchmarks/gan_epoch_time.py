"""Time one full-mode training epoch of the GAN recipes of notebooks 03 and 05.

Usage (from the repository root, with the real MNIST in the data folder):

    COURSE_DATA_DIR=/path/to/data python benchmarks/gan_epoch_time.py            # dcgan and cgan
    COURSE_DATA_DIR=/path/to/data python benchmarks/gan_epoch_time.py cgan --threads 1
    COURSE_DATA_DIR=/path/to/data python benchmarks/gan_epoch_time.py --steps 200   # quick estimate

Each recipe trains one epoch of its full-mode configuration (the whole training
split; with ``--steps N`` only the first N batches, and the epoch time is
extrapolated) into a temporary checkpoint folder, exactly as ``cu.zoo.dcgan`` /
``cu.zoo.cgan`` would: the per-epoch snapshot and checkpoint saves are included.
It prints seconds per epoch, the projected time of the recipe's full-mode epoch
budget, and the machine's load, so that figures from a busy machine can be told
apart from quiet ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time

import torch

import course_utils as cu

# the recipes written in notebooks 03 and 05 (promoted to course_utils.gan and course_utils.cgan)
RECIPES = {"dcgan": cu.gan.dcgan_recipe, "cgan": cu.cgan.cgan_recipe}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipes", nargs="*", metavar="recipe",
                        help=f"the recipes to time: {', '.join(RECIPES)} (default: all)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--steps", type=int, default=None, help="time only this many batches and extrapolate")
    args = parser.parse_args()
    unknown = sorted(set(args.recipes) - set(RECIPES))
    if unknown:
        parser.error(f"unknown recipe {', '.join(unknown)}; choose from {', '.join(RECIPES)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = cu.get_device(verbose=False)
    env = dict(os.environ, COURSE_SMOKE="0")
    for name in args.recipes or list(RECIPES):
        with tempfile.TemporaryDirectory(prefix="gan-bench-") as tmp:
            settings = cu.get_settings({**env, "COURSE_CHECKPOINT_DIR": tmp})
            config, epochs = RECIPES[name](settings)
            n_train = len(cu.mnist_tensors(settings, train=True)[1])
            limit = None if args.steps is None else args.steps * config.batch_size
            config = dataclasses.replace(config, train_limit=limit)
            load_before = os.getloadavg()[0]
            t0 = time.perf_counter()
            run = cu.gan.train_gan(settings, device, name, config, epochs=1, progress_bar=False)
            wall = time.perf_counter() - t0
            epoch_s = run.history.epoch["time_s"][0]
            steps = len(run.history.step["loss_D"])
            full_steps = n_train // config.batch_size
            per_epoch = epoch_s * full_steps / steps
            how = "measured" if args.steps is None else f"extrapolated from {steps} steps"
            print(f"{name}: {per_epoch:.1f} s per epoch of {n_train:,} digits ({how}; "
                  f"{1000 * epoch_s / steps:.0f} ms per step; {wall:.1f} s with data loading and saving)")
            print(f"  full-mode budget: {epochs} epochs -> about {epochs * per_epoch / 60:.1f} min of "
                  "training")
            print(f"  device {device}, {torch.get_num_threads()} threads, load average "
                  f"{load_before:.2f} before / {os.getloadavg()[0]:.2f} after, torch {torch.__version__}")


if __name__ == "__main__":
    main()
