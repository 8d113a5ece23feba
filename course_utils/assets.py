"""The registry of files the course downloads by URL, each checked against its sha256.

Downloading and hash checking are done by `pooch <https://www.fatiando.org/pooch/>`_.
A file is stored under ``<data folder>/images/``; if it is already there with the
right hash, nothing is downloaded, so pointing ``COURSE_DATA_DIR`` at an offline
mirror works without a network.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import pooch
import requests

from .settings import Settings

_BASE = "https://raw.githubusercontent.com/jcjohnson/neural-style/master/examples/inputs/"


@dataclass(frozen=True)
class Asset:
    """One downloadable file: where it comes from, its hash, and what it is."""

    url: str
    sha256: str
    description: str


ASSETS: dict[str, Asset] = {
    "starry_night.jpg": Asset(
        _BASE + "starry_night.jpg",
        "0592ab0f7b51b3ce72608a95e53880bd93971e5b48f93a0ce8dfd3cbccf3d098",
        "Vincent van Gogh, The Starry Night (1889), public domain",
    ),
    "the_scream.jpg": Asset(
        _BASE + "the_scream.jpg",
        "f3075cddeb974a9ee1d6418f7f33fd05185a7ac7dcb4288bd2805d499a9dcaee",
        "Edvard Munch, The Scream (1893), public domain",
    ),
    "shipwreck.jpg": Asset(
        _BASE + "shipwreck.jpg",
        "4f7cf34e3cd4a5daaf3f421f059ca9a01aaa2a3afd7243d6670c9c8bc001a213",
        "J. M. W. Turner, The Shipwreck (1805), public domain",
    ),
    "tubingen.jpg": Asset(
        _BASE + "tubingen.jpg",
        "e67d1869f01fd805385c681a80d9ebcf0f70ea4a5fe6127f0606bb1c7f4bf506",
        "Neckarfront in Tuebingen, content photo of Gatys et al. 2016 "
        "(photo: Andreas Praefcke, CC BY 3.0)",
    ),
    "golden_gate.jpg": Asset(
        _BASE + "golden_gate.jpg",
        "f8476ac216e0d409af2e52bf82ad2cdc3433e23d7895e6f9b2048fc014ed57ba",
        "Golden Gate Bridge photograph",
    ),
}


class AssetUnavailableError(RuntimeError):
    """A registered file is not in the data folder and could not be downloaded."""


def assets_dir(settings: Settings) -> Path:
    """The folder where registered files are stored: ``<data folder>/images``."""
    return settings.data_dir / "images"


def _registry(settings: Settings) -> pooch.Pooch:
    return pooch.create(
        path=assets_dir(settings),
        base_url="",
        registry={name: f"sha256:{a.sha256}" for name, a in ASSETS.items()},
        urls={name: a.url for name, a in ASSETS.items()},
    )


def fetch_asset(name: str, settings: Settings) -> Path:
    """Return the local path of a registered file, downloading it if needed.

    Args:
        name: a key of :data:`ASSETS`, e.g. ``"starry_night.jpg"``.
        settings: gives the data folder.

    Raises:
        KeyError: if ``name`` is not registered.
        AssetUnavailableError: if the file is missing (or damaged) and cannot be
            downloaded; the message names the file, its URL and both fixes.
    """
    if name not in ASSETS:
        known = ", ".join(sorted(ASSETS))
        raise KeyError(f"{name!r} is not in the course's asset registry. Known files: {known}")
    asset = ASSETS[name]
    target = assets_dir(settings) / name
    damaged = target.is_file() and pooch.file_hash(str(target)) != asset.sha256
    try:
        return Path(_registry(settings).fetch(name))
    except Exception as err:  # network errors, hash mismatch, read-only folder
        state = (
            f"A file {target} exists but its sha256 does not match the registry (damaged or "
            "a different file), and a fresh copy could not be downloaded"
            if damaged
            else f"{name} is not in {target.parent} and could not be downloaded"
        )
        raise AssetUnavailableError(
            f"{state}.\n"
            f"  File: {name} ({asset.description})\n"
            f"  URL:  {asset.url}\n"
            f"  sha256: {asset.sha256}\n"
            f"  Error: {type(err).__name__}: {err}\n" + how_to_fix(f"images/{name}")
        ) from err


def how_to_fix(relative_path: str) -> str:
    """The two fixes for a file that is missing offline, as printed in the course's errors."""
    return (
        "Fix it in either of two ways:\n"
        "  1. connect to the internet and run the cell again (the file is downloaded once), or\n"
        f"  2. set COURSE_DATA_DIR to a folder that holds {relative_path} "
        "(for example an offline copy of the course data), then run the first cell again."
    )


# ---------------------------------------------------------------- collections (archives of many files)


@dataclass(frozen=True)
class Collection:
    """A downloadable archive of many files (a photo collection), unpacked into the data folder.

    ``sha256`` and ``size`` are those of the archive as published; ``checksum_source`` says
    where the hash was published (it is never taken from the download itself).
    """

    url: str
    sha256: str
    size: int
    folder: str  # unpacked into <data folder>/<folder>
    count: int  # how many files the archive holds
    description: str
    licence: str
    checksum_source: str


COLLECTIONS: dict[str, Collection] = {
    "coco_val2017": Collection(
        url="http://images.cocodataset.org/zips/val2017.zip",
        sha256="4f7e2ccb2866ec5041993c9cf2a952bbed69647b115d0f74da7ce8f4bef82f05",
        size=815_585_330,
        folder="collections/coco_val2017",
        count=5000,
        description="COCO 2017 validation images (Lin et al. 2014): 5,000 photos of everyday scenes, "
                    "about 640 px on the longer side",
        licence="each photo under its own Flickr licence (listed in COCO's annotation files); "
                "COCO's annotations are CC BY 4.0",
        checksum_source="size and sha256 as published by TensorFlow Datasets "
                        "(tensorflow_datasets/url_checksums/coco.txt)",
    ),
    # The CycleGAN authors' unpaired sets (Zhu et al. 2017), notebook 08. TFDS recorded their hashes for
    # people.eecs.berkeley.edu/~taesung_park/CycleGAN/datasets/, which now redirects to this host.
    "vangogh2photo": Collection(
        url="https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/vangogh2photo.zip",
        sha256="362c3473e70be0944bda08d49d660eafdc2854df55d697835b8186d1d79caaff",
        size=306_590_349,
        folder="collections/vangogh2photo",
        count=7838,
        description="CycleGAN's vangogh2photo (Zhu et al. 2017): 400 + 400 van Gogh paintings (trainA, "
                    "testA) and 6,287 + 751 landscape photos (trainB, testB), 256 x 256 px",
        licence="paintings from WikiArt (public domain); photos from Flickr, each under its own licence",
        checksum_source="size and sha256 as published by TensorFlow Datasets "
                        "(tensorflow_datasets/url_checksums/cycle_gan.txt)",
    ),
    "monet2photo": Collection(
        url="https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/monet2photo.zip",
        sha256="88f91b00fc228f97c9411fbf1880ec1d119c98f1722e4cfcfaa2fb35fac05b04",
        size=305_231_073,
        folder="collections/monet2photo",
        count=8231,
        description="CycleGAN's monet2photo (Zhu et al. 2017): 1,072 + 121 Monet paintings (trainA, "
                    "testA) and 6,287 + 751 landscape photos (trainB, testB), 256 x 256 px",
        licence="paintings from WikiArt (public domain); photos from Flickr, each under its own licence",
        checksum_source="size and sha256 as published by TensorFlow Datasets "
                        "(tensorflow_datasets/url_checksums/cycle_gan.txt)",
    ),
}


def collection_dir(name: str, settings: Settings) -> Path:
    """The folder a collection is unpacked into: ``<data folder>/<its folder>``."""
    if name not in COLLECTIONS:
        raise KeyError(f"{name!r} is not a registered collection. Known: {', '.join(sorted(COLLECTIONS))}")
    return settings.data_dir / COLLECTIONS[name].folder


def fetch_collection(name: str, settings: Settings, *, download: bool = True, progressbar: bool = True,
                     keep_archive: bool = False) -> Path:
    """The folder of an unpacked collection; the first call downloads and unpacks it.

    The archive is downloaded into ``<data folder>/downloads/`` (after a HEAD request that
    checks the host can be reached, so that offline nothing is written) and checked against its
    registered sha256 (pooch), unpacked, and then deleted unless ``keep_archive``. A file
    ``.complete`` holding the sha256 marks a finished unpack, so later calls touch
    neither the network nor the archive; an interrupted unpack is simply redone.

    Raises:
        KeyError: if ``name`` is not registered.
        AssetUnavailableError: if the collection is not there and ``download`` is False, or
            the download fails (offline, wrong hash, read-only folder); the message says
            what to do.
    """
    target = collection_dir(name, settings)  # KeyError for an unknown name
    c = COLLECTIONS[name]
    marker = target / ".complete"
    if marker.is_file() and marker.read_text().strip() == c.sha256:
        return target
    fix = (f"Fix it in one of three ways:\n"
           f"  1. connect to the internet and run the cell again ({c.size / 1e6:,.0f} MB, downloaded once),\n"
           f"  2. set COURSE_DATA_DIR to a folder that holds {c.folder}/ (unpacked, with its .complete "
           "file), or\n"
           "  3. set COURSE_PHOTOS_DIR to a folder of your own photos.")
    if not download:
        raise AssetUnavailableError(f"The collection {name} ({c.description}) is not in {target}.\n{fix}")
    archive = settings.data_dir / "downloads" / c.url.rsplit("/", 1)[-1]
    try:
        if not archive.is_file():
            # Ask first, so that nothing is written into the data folder when the host cannot be reached.
            requests.head(c.url, timeout=15, allow_redirects=True).raise_for_status()
        # pooch downloads the archive (unless a copy with the right sha256 is there) and checks its hash
        archive = Path(pooch.retrieve(c.url, known_hash=f"sha256:{c.sha256}", fname=archive.name,
                                      path=archive.parent, progressbar=progressbar))
        with zipfile.ZipFile(archive) as z:  # zipfile drops absolute paths and ".." from member names
            z.extractall(target)
        marker.write_text(c.sha256 + "\n")
    except Exception as err:  # network errors, hash mismatch, read-only folder, full disk, bad zip
        raise AssetUnavailableError(
            f"The collection {name} could not be downloaded and unpacked into {target}.\n"
            f"  What: {c.description}\n  URL:  {c.url}\n  sha256: {c.sha256} ({c.size:,} bytes)\n"
            f"  Error: {type(err).__name__}: {err}\n{fix}"
        ) from err
    if not keep_archive:
        archive.unlink(missing_ok=True)
    return target
