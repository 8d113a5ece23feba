"""Speed of notebook 07's feed-forward style transfer against Gatys et al.'s optimisation.

Times, on one photo (Tübingen) and The Starry Night, at each size:

* **Gatys** (notebook 02's ``cu.style_transfer``): one loss evaluation (VGG-19 to relu5_1, forward
  and backward) and, unless ``--no-gatys-run``, a whole run of ``--gatys-iterations`` L-BFGS
  iterations (default 100, notebook 02's default; gamma = 1e5 as in notebook 02);
* one forward pass of each network of notebook 07: the Johnson network, the multi-style
  (conditional instance norm) network and AdaIN (encoder to relu4_1 for the photo *and* the
  painting, AdaIN, decoder), via ``stylize`` / ``stylize_adain`` as the notebook calls them;
* with ``--train``, one training step of each recipe at the full-mode crop size (2 crops of
  128 px), from which the full-mode training time of notebook 07 is estimated.

Speed does not depend on the weights, so the networks are freshly initialised: no trained
checkpoint is needed. Run it on a quiet machine (the load average is printed) from the
repository root:

    COURSE_DATA_DIR=../shared/data python benchmarks/fast_style.py
    python benchmarks/fast_style.py --sizes 256 --train        # + training steps and the estimate
    python benchmarks/fast_style.py --threads 1                 # a fixed number of CPU threads

Each time is the median of ``--repeats`` runs after a warm-up; CPU time (both threads summed)
is printed next to wall time, which helps to read a measurement taken on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import machine_line, sync, timed  # noqa: E402  (benchmarks/_timing.py)

import course_utils as cu  # noqa: E402
from course_utils import fast_style as FS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512], help="longer side in pixels")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gatys-iterations", type=int, default=100)
    parser.add_argument("--no-gatys-run", action="store_true", help="time one Gatys evaluation only")
    parser.add_argument("--train", action="store_true", help="also time one training step of each recipe")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--study-steps", type=int, default=150, help="notebook 07's STUDY_STEPS (4 runs)")
    parser.add_argument("--data-steps", type=int, default=300,
                        help="notebook 07's DATA_STEPS (3 runs offline)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    settings = cu.get_settings()
    device = cu.get_device(verbose=False)
    print(machine_line(device))
    photo = cu.load_image(cu.fetch_asset("tubingen.jpg", settings))
    painting = cu.load_image(cu.fetch_asset("starry_night.jpg", settings))
    vgg = cu.vgg19(last_layer="relu4_1", device=device)
    vgg_eval = cu.vgg19(last_layer="relu5_1", device=device)
    torch.manual_seed(0)
    johnson = FS.FastStyleConfig().build().to(device).eval()
    multi = replace(FS.FastStyleConfig(), paintings=("a", "b", "c"), norm="conditional").build()
    multi = multi.to(device).eval()
    adain = FS.AdaINNet(vgg, FS.Decoder(FS.AdaINConfig().width).to(device)).eval()
    print(f"parameters: Johnson {cu.count_parameters(johnson):,}, multi-style "
          f"{cu.count_parameters(multi):,}, AdaIN decoder {cu.count_parameters(adain.decoder):,}")

    style = torch.tensor([1.0, 0.0, 0.0])
    for size in args.sizes:
        p = cu.style.resize(photo, size)
        s = cu.style.resize(painting, size)
        loss = cu.style.StyleLoss(vgg_eval, p.to(device), [s.to(device)], tv_weight=1e5)
        x = p[None].to(device).clone().requires_grad_(True)
        calls = {
            "Gatys, one loss evaluation": lambda loss=loss, x=x: loss(x)["total"].backward(),
            "Johnson network": lambda p=p: FS.stylize(johnson, p),
            "multi-style network": lambda p=p: FS.stylize(multi, p, style=style),
            "AdaIN (photo + painting)": lambda p=p, size=size: FS.stylize_adain(adain, p, [painting],
                                                                                style_size=size),
        }
        rows = {name: timed(fn, device, args.repeats) for name, fn in calls.items()}
        if not args.no_gatys_run:
            w0, c0 = time.perf_counter(), time.process_time()
            r = cu.style.style_transfer(p, painting, vgg_eval, size=size, steps=args.gatys_iterations,
                                        tv_weight=1e5, progress_bar=False)
            sync(device)
            name = f"Gatys, {args.gatys_iterations} L-BFGS iterations ({len(r.history['total'])} evaluations)"
            rows[name] = (1000 * (time.perf_counter() - w0), 1000 * (time.process_time() - c0))
        gatys = next((v for k, v in rows.items() if "iterations" in k), None)
        print(f"\n{size} px ({p.shape[2]}x{p.shape[1]}):")
        for name, (wall, cpu) in rows.items():
            feed_forward = "network" in name or name.startswith("AdaIN")
            ratio = f"  {gatys[0] / wall:7.0f}x faster than the Gatys run" if gatys and feed_forward else ""
            print(f"  {name:<58} {wall:10.1f} ms wall {cpu:10.1f} ms CPU{ratio}")

    if args.train:
        train_steps(args, settings, device, vgg)


def train_steps(args, settings, device, vgg) -> None:
    """One training step of each notebook-07 recipe in full mode, and the estimated training time."""
    full = cu.get_settings({**os.environ, "COURSE_SMOKE": "0"})
    photos = cu.photos.offline_photos(settings)
    johnson = FS.johnson_recipe(full, photos)
    multi = FS.multi_style_recipe(full, photos)
    adain = FS.adain_recipe(full, photos)
    crops = cu.photos.RandomCrops(photos, johnson.crop, length=64)
    batch = torch.stack([crops[i] for i in range(johnson.batch_size)])
    print(f"\ntraining steps (full-mode recipes: {johnson.batch_size} crops of {johnson.crop} px):")
    per_step = {}
    for name, config in [("Johnson", johnson), ("multi-style", multi)]:
        net = config.build().to(device)
        paintings = [FS.load_painting(p, settings, config.painting_size).to(device) for p in config.paintings]
        loss_fn = FS.PerceptualLoss(vgg, paintings, config.content_weight, config.style_weight,
                                    config.tv_weight)
        step = FS.fast_style_step(net, loss_fn, torch.optim.Adam(net.parameters(), lr=config.lr), device)
        per_step[name] = timed(lambda step=step: step(batch), device, args.repeats)
    model = FS.AdaINNet(vgg, FS.Decoder(adain.width).to(device))
    step = FS.adain_step(model, torch.optim.Adam(model.decoder.parameters(), lr=adain.lr), adain.style_weight,
                         device)
    styles = torch.rand_like(batch)
    per_step["AdaIN"] = timed(lambda: step((batch, styles)), device, args.repeats)
    steps = {"Johnson": johnson.steps, "multi-style": multi.steps, "AdaIN": adain.steps}
    for name, (wall, cpu) in per_step.items():
        print(f"  {name:<12} {wall:8.1f} ms wall {cpu:8.1f} ms CPU per step; {steps[name]} steps "
              f"-> {steps[name] * wall / 1000:6.0f} s")
    studies = 4 * args.study_steps + 3 * args.data_steps  # Johnson-sized runs of sections 2, 3 and 7
    total = sum(steps[n] * per_step[n][0] for n in steps) + studies * per_step["Johnson"][0]
    print(f"  + {studies} steps of the studies (4 x {args.study_steps}, 3 x {args.data_steps}) -> "
          f"{studies * per_step['Johnson'][0] / 1000:.0f} s; all training of notebook 07's full mode: "
          f"{total / 60000:.1f} min")


if __name__ == "__main__":
    main()
