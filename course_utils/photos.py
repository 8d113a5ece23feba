"""Collections of real photos for the notebooks that train on photos (07 fast style transfer, 08).

Three sources, each a :class:`PhotoSet` that says what it is and whom to credit:

``folder_photos(path)``
    Any folder of your own photos (searched recursively; JPEG, PNG, WebP, BMP, TIFF).
    Set ``COURSE_PHOTOS_DIR`` to use it everywhere.
``collection_photos(settings, "coco_val2017")``
    A collection registered in :data:`course_utils.assets.COLLECTIONS` (COCO 2017
    validation: 5,000 photos), downloaded once by URL and checked against its sha256.
``offline_photos(settings)``
    The photos that work without a network: the 11 photographs of the data folder's
    ``photos/`` (KDE Plasma wallpapers, see :data:`KDE_PHOTOS` for the photographers)
    and scikit-image's colour photos. Smoke runs and CI use these.

:func:`training_photos` picks one in that order (your folder; the collection when it is
there, or downloaded in full mode; else the offline set) and prints which and why.
:func:`test_photos` gives four photos that are never in a training set, for pictures of
how a trained network does on photos it has not seen.

:class:`~course_utils.photo_crops.RandomCrops` (module ``photo_crops``, also importable
from here) turns a photo set into a dataset of random square crops at random scales (the
usual training input of image-to-image networks). Every file is read through the course's
safe loader :func:`course_utils.images.load_image`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .assets import COLLECTIONS, AssetUnavailableError, fetch_asset, fetch_collection
from .images import load_image
from .settings import Settings

#: The 11 photographs of ``<data folder>/photos/``: file -> (what, photographer, licence).
#: From Debian's plasma-workspace-wallpapers 4:5.27.5-2 (each wallpaper's metadata.json).
KDE_PHOTOS: dict[str, tuple[str, str, str]] = {
    "bythewater.jpg": ("jetty on a lake", "Maciej Wiklo", "LGPL-3"),
    "coldripple.jpg": ("pier in fog", "Risto Saukonpää", "LGPL-3"),
    "colorfulcups.jpg": ("stacked coloured cups", "Dmitri Popov", "LGPL-3"),
    "darkesthour.jpg": ("lake at dusk", "Risto Saukonpää", "LGPL-3"),
    "eveningglow.jpg": ("rowing boats at sunset", "Ian Hex", "LGPL-3"),
    "fallenleaf.jpg": ("autumn leaves, shallow focus", "Martin Klapetek", "LGPL-3"),
    "grey.jpg": ("curved building facade, black and white", "Sigi Sagi", "LGPL-3"),
    "kite.jpg": ("kite in a blue sky", "Risto Saukonpää", "LGPL-3"),
    "onestandsout.jpg": ("moss, close-up", "Risto Saukonpää", "LGPL-3"),
    "path.jpg": ("forest path", "Risto Saukonpää", "LGPL-3"),
    "summer_1am.jpg": ("lake under a violet sky", "Risto Saukonpää", "LGPL-3"),
}

#: scikit-image's colour photos (inside its wheel): name -> credit, from skimage.data's docstrings.
SKIMAGE_PHOTOS: dict[str, str] = {
    "astronaut": "Eileen Collins, NASA, public domain",
    "chelsea": "Chelsea the cat, Stefan van der Walt, CC0",
    "coffee": "coffee cup, Rachel Michetti (Pikolo Espresso Bar), CC0",
    "rocket": "DSCOVR launch on Falcon 9, SpaceX, public domain",
    "motorcycle_left": "Middlebury 2014 stereo benchmark (Scharstein et al.), left view",
    "motorcycle_right": "Middlebury 2014 stereo benchmark (Scharstein et al.), right view",
    "hubble_deep_field": "Hubble eXtreme Deep Field, NASA, public domain",
    "retina": "fundus photograph, Mikael Häggström, CC0",
}

#: scikit-image's grayscale textures (CC0, from CC0Textures and DeviantArt): useful as "styles".
SKIMAGE_TEXTURES: dict[str, str] = {
    "brick": "brick wall, CC0Textures, CC0",
    "grass": "grass, linolafett (DeviantArt), CC0",
    "gravel": "gravel, CC0Textures, CC0",
}

#: Photos kept out of every training set, for "photos the network never saw":
#: two from the asset registry (Gatys et al.'s Tübingen photo and the Golden Gate) and two
#: scikit-image photos that notebook 02 also uses.
TEST_PHOTOS: dict[str, str] = {
    "Tübingen": "tubingen.jpg",
    "Golden Gate": "golden_gate.jpg",
    "astronaut": "skimage:astronaut",
    "cat": "skimage:chelsea",
}

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


class PhotosUnavailableError(RuntimeError):
    """A photo set cannot be used (an empty folder, a missing collection); the message says why."""


@dataclass(frozen=True)
class Photo:
    """One photo: a name for figures, where it comes from (a file or ``skimage:<name>``), its credit."""

    name: str
    source: str
    credit: str = ""

    def load(self, max_side: int | None = None) -> torch.Tensor:
        """The photo as ``[3, H, W]`` in [0, 1] (through :func:`~course_utils.images.load_image`)."""
        if self.source.startswith("skimage:"):
            return skimage_photo(self.source.removeprefix("skimage:"), max_side)
        return load_image(self.source, max_side=max_side)


@dataclass(frozen=True)
class PhotoSet:
    """A named, ordered set of photos.

    Attributes:
        name: what the set is, for figure titles ("offline photos: ...", "COCO val2017", ...).
        tag: a short identifier for checkpoint names, e.g. ``"offline17"`` or ``"coco_val2017"``.
        photos: the photos, in a fixed order.
    """

    name: str
    tag: str
    photos: tuple[Photo, ...]

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, i: int) -> Photo:
        return self.photos[i]

    def first(self, n: int) -> PhotoSet:
        """The first ``n`` photos of a fixed shuffle (seed 0) of the set, so that a small
        subset mixes the kinds of photos; the same ``n`` always gives the same photos."""
        if not 1 <= n <= len(self):
            raise ValueError(f"cannot take {n} photos from a set of {len(self)} ({self.name})")
        order = np.random.default_rng(0).permutation(len(self))[:n]
        return PhotoSet(f"{n} of {self.name}", f"{self.tag}-first{n}", tuple(self.photos[i] for i in order))

    def credits(self, limit: int = 20) -> str:
        """One line per credited photo (at most ``limit``; a large collection names its licence)."""
        lines = [f"{p.name}: {p.credit}" for p in self.photos[:limit] if p.credit]
        if len(self) > limit:
            lines.append(f"... and {len(self) - limit:,} more")
        return "\n".join(lines)


def skimage_photo(name: str, max_side: int | None = None) -> torch.Tensor:
    """A scikit-image photo or texture (:data:`SKIMAGE_PHOTOS`, :data:`SKIMAGE_TEXTURES`) as
    ``[3, H, W]`` in [0, 1] (a grayscale texture is repeated on the three channels)."""
    from skimage import data

    if name not in SKIMAGE_PHOTOS and name not in SKIMAGE_TEXTURES:
        raise KeyError(f"{name!r} is not one of scikit-image's colour photos or textures: "
                       f"{', '.join([*SKIMAGE_PHOTOS, *SKIMAGE_TEXTURES])}")
    if name.startswith("motorcycle_"):
        array = data.stereo_motorcycle()[0 if name.endswith("left") else 1]
    else:
        array = getattr(data, name)()
    x = torch.from_numpy(np.ascontiguousarray(array)).float() / 255
    x = x.expand(3, -1, -1) if x.dim() == 2 else x.permute(2, 0, 1)
    if max_side is not None and max(x.shape[1:]) > max_side:
        scale = max_side / max(x.shape[1:])
        size = [max(1, round(s * scale)) for s in x.shape[1:]]
        x = F.interpolate(x[None], size=size, mode="bilinear", antialias=True, align_corners=False)[0]
    return x.clamp(0, 1)


def folder_photos(folder: str | Path, name: str | None = None) -> PhotoSet:
    """Every image file under ``folder`` (recursively, sorted by path), e.g. ``COURSE_PHOTOS_DIR``.

    Raises:
        PhotosUnavailableError: if the folder does not exist or holds no image files.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise PhotosUnavailableError(f"{folder} is not a folder. Point COURSE_PHOTOS_DIR at a folder of "
                                     "photos (JPEG, PNG, ...), or unset it to use the course's photos.")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not files:
        raise PhotosUnavailableError(f"{folder} holds no image files ({', '.join(IMAGE_SUFFIXES)}).")
    digest = hashlib.sha256("\n".join(str(p.relative_to(folder)) for p in files).encode()).hexdigest()[:8]
    photos = tuple(Photo(str(p.relative_to(folder)), str(p)) for p in files)
    return PhotoSet(name or f"your photos in {folder} ({len(files):,})", f"folder{len(files)}-{digest}",
                    photos)


def offline_photos(settings: Settings, exclude: Sequence[str] = tuple(TEST_PHOTOS.values())) -> PhotoSet:
    """The photos that need no network: the data folder's ``photos/`` and scikit-image's.

    Args:
        settings: gives the data folder (``<data folder>/photos/*.jpg``; the mirror's 11 files).
        exclude: sources to leave out; by default the :data:`TEST_PHOTOS`, so that they stay unseen.

    Raises:
        PhotosUnavailableError: if the data folder has no ``photos/`` (the scikit-image photos
            alone are then used, with a note; this error only when nothing at all is there).
    """
    folder = settings.data_dir / "photos"
    files = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
    photos = [Photo(p.stem, str(p), "{1}, {2} ({0})".format(*KDE_PHOTOS[p.name]) if p.name in KDE_PHOTOS
                    else "") for p in files if str(p) not in exclude and p.name not in exclude]
    photos += [Photo(n, f"skimage:{n}", credit) for n, credit in SKIMAGE_PHOTOS.items()
               if f"skimage:{n}" not in exclude]
    if not photos:
        raise PhotosUnavailableError(f"No photos in {folder} and none from scikit-image.")
    n_files = len(photos) - sum(p.source.startswith("skimage:") for p in photos)
    return PhotoSet(f"offline photos ({n_files} KDE wallpapers + {len(photos) - n_files} scikit-image)",
                    f"offline{len(photos)}", tuple(photos))


def collection_photos(settings: Settings, name: str = "coco_val2017", download: bool = False,
                      progressbar: bool = True) -> PhotoSet:
    """A registered collection (:data:`~course_utils.assets.COLLECTIONS`), downloaded if asked.

    Raises:
        AssetUnavailableError: if it is not there and cannot be (or may not be) downloaded.
    """
    folder = fetch_collection(name, settings, download=download, progressbar=progressbar)
    found = folder_photos(folder)
    c = COLLECTIONS[name]
    photos = tuple(Photo(Path(p.source).name, p.source, "") for p in found.photos)
    return PhotoSet(f"{name} ({len(photos):,} photos; {c.licence})", name, photos)


def training_photos(settings: Settings, collection: str = "coco_val2017", download: bool | None = None,
                    report: Callable[[str], None] | None = print) -> PhotoSet:
    """The photos to train on, chosen in this order, with a line saying which and why:

    1. ``COURSE_PHOTOS_DIR`` when it is set (your own photos);
    2. the registered ``collection`` when it is in the data folder, or can be downloaded
       (``download``: default True in full mode, False in smoke mode);
    3. :func:`offline_photos`.
    """
    say = report or (lambda _: None)
    if settings.photos_dir is not None:
        photos = folder_photos(settings.photos_dir)
        say(f"Training photos: {photos.name} (COURSE_PHOTOS_DIR).")
        return photos
    asked = download is not None
    download = (not settings.smoke) if download is None else download
    try:
        photos = collection_photos(settings, collection, download=download)
        say(f"Training photos: {photos.name}.")
        return photos
    except AssetUnavailableError as err:
        error = next((line.strip() for line in str(err).splitlines() if line.strip().startswith("Error:")),
                     "")
        why = (f"it could not be downloaded ({error})" if download else
               "downloading was not asked for" if asked else "smoke mode does not download it")
    photos = offline_photos(settings)
    say(f"Training photos: {photos.name}. ({collection} is not in {settings.data_dir} and {why}; "
        "set COURSE_PHOTOS_DIR to use your own photos.)")
    return photos


def test_photos(settings: Settings, max_side: int | None = 512) -> dict[str, torch.Tensor]:
    """The :data:`TEST_PHOTOS`, never in a training set, as ``{name: [3, H, W] in [0, 1]}``."""
    out = {}
    for name, source in TEST_PHOTOS.items():
        if source.startswith("skimage:"):
            out[name] = skimage_photo(source.removeprefix("skimage:"), max_side)
        else:
            out[name] = load_image(fetch_asset(source, settings), max_side=max_side)
    return out


# RandomCrops lives in its own module (one concern: training crops); kept importable from here.
from .photo_crops import RandomCrops  # noqa: E402, F401
