"""Time one full-mode training epoch of the VAE recipes of notebook 04, and the IWAE evaluation.

Usage (from the repository root, with the real MNIST in the data folder):

    COURSE_DATA_DIR=/path/to/data python benchmarks/vae_epoch_time.py              # vae and mlp_vae
    COURSE_DATA_DIR=/path/to/data python benchmarks/vae_epoch_time.py vae --threads 1
    COURSE_DATA_DIR=/path/to/data python benchmarks/vae_epoch_time.py --iwae 1000   # also time IWAE k=100

Each recipe of notebook 04 (``cu.vae.vae_recipe``: the conv VAE of ``cu.zoo.vae``;
``cu.vae.mlp_vae_recipe``: the 784-400-20 MLP of ``cu.zoo.mlp_vae``) trains one
epoch of its full-mode configuration on the whole training split into a temporary
checkpoint folder, with ``cu.vae.train_vae`` as in the notebook.
The epoch time is split into training steps and the end-of-epoch evaluation
(-ELBO on the test split and on 10,000 training digits). With ``--iwae N`` the
IWAE bound with k = 100 is timed on N test digits and extrapolated to the test
split. It prints the machine's load, so that figures from a busy machine can be
told apart from quiet ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time

import torch

import course_utils as cu

RECIPES = {"vae": cu.vae.vae_recipe, "mlp_vae": cu.vae.mlp_vae_recipe}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipes", nargs="*", choices=[*RECIPES, []], help="default: all")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--iwae", type=int, default=0, metavar="N",
                        help="also time the IWAE bound (k = 100) on N test digits")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = cu.get_device(verbose=False)
    env = dict(os.environ, COURSE_SMOKE="0")
    for name in args.recipes or list(RECIPES):
        with tempfile.TemporaryDirectory(prefix="vae-bench-") as tmp:
            settings = cu.get_settings({**env, "COURSE_CHECKPOINT_DIR": tmp})
            recipe = RECIPES[name](settings)
            config = dataclasses.replace(recipe, epochs=1)
            x_test = cu.mnist_tensors(settings, train=False)[0]
            load_before = os.getloadavg()[0]
            model, history = cu.vae.train_vae(config, settings, device, name=name, progress_bar=False)
            epoch_s = history.epoch["time_s"][0]
            t0 = time.perf_counter()
            cu.vae.evaluate_elbo(model, x_test)
            eval_s = (time.perf_counter() - t0) * (len(x_test) + config.train_eval) / len(x_test)
            epochs = recipe.epochs
            print(f"{name}: {epoch_s:.1f} s per epoch on {len(cu.mnist_tensors(settings)[1]):,} digits "
                  f"({epoch_s - eval_s:.1f} s training, about {eval_s:.1f} s end-of-epoch evaluation); "
                  f"{epochs} epochs -> about {epochs * epoch_s / 60:.1f} min")
            if args.iwae:
                t0 = time.perf_counter()
                cu.vae.evaluate_iwae(model, x_test[:args.iwae], k=100, progress_bar=False)
                iwae_s = time.perf_counter() - t0
                print(f"  IWAE k=100: {iwae_s:.1f} s for {args.iwae:,} test digits -> about "
                      f"{iwae_s * len(x_test) / args.iwae:.0f} s for all {len(x_test):,}")
            print(f"  device {device}, {torch.get_num_threads()} threads, load average "
                  f"{load_before:.2f} before / {os.getloadavg()[0]:.2f} after, torch {torch.__version__}")


if __name__ == "__main__":
    main()
