"""The registry of files the course downloads by URL, each checked against its sha256.

Downloading and hash checking are done by `pooch <https://www.fatiando.org/pooch/>`_.
A file is stored under ``<data folder>/images/``; if it is already there with the
right hash, nothing is downloaded, so pointing ``COURSE_DATA_DIR`` at an offline
mirror works without a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pooch

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
