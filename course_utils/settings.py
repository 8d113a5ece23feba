"""Run settings in one place: smoke or full mode, the data folder, the checkpoint folder.

Every notebook starts with ``settings = cu.get_settings()``. The settings are read
from environment variables each time the function is called (nothing is cached at
import time), so a learner can change them and re-run the first cell.

=========================  =====================================================
``COURSE_SMOKE=1``         smoke mode: small data subsets, few epochs or steps,
                           small images. Used by CI; the default is full mode.
``COURSE_DATA_DIR``        where datasets and images are read and downloaded.
                           Default: the repository's ``data/`` folder.
``COURSE_CHECKPOINT_DIR``  where trained models are saved. Default: the
                           repository's ``checkpoints/`` folder. Smoke-mode runs
                           save under ``<folder>/smoke/`` so that a quick smoke
                           model is never loaded in place of a fully trained one.
``COURSE_PHOTOS_DIR``      optional: a folder of your own photos (searched
                           recursively) for the notebooks that train on photos
                           (07, 08); it replaces the downloaded collection. See
                           :mod:`course_utils.photos`.
=========================  =====================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def repo_root() -> Path | None:
    """The course checkout this package was installed from, or None when installed from a wheel."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir():
        return root
    return None


def _default_folder(name: str) -> Path:
    root = repo_root()
    return (root / name) if root is not None else (Path.cwd() / name)


@dataclass(frozen=True)
class Settings:
    """The effective settings of a run.

    Attributes:
        smoke: True in smoke mode (``COURSE_SMOKE=1``).
        data_dir: folder for datasets and downloaded images.
        checkpoint_root: folder for checkpoints, as configured.
        photos_dir: a folder of the learner's own photos (``COURSE_PHOTOS_DIR``), or None.
    """

    smoke: bool
    data_dir: Path
    checkpoint_root: Path
    photos_dir: Path | None = None

    @property
    def mode(self) -> str:
        """``"smoke"`` or ``"full"``."""
        return "smoke" if self.smoke else "full"

    @property
    def checkpoint_dir(self) -> Path:
        """Where this mode's checkpoints go: smoke runs use a ``smoke/`` subfolder."""
        return self.checkpoint_root / "smoke" if self.smoke else self.checkpoint_root

    def checkpoint_path(self, name: str) -> Path:
        """The file of the named checkpoint, e.g. ``"mnist_classifier"`` -> ``.../mnist_classifier.pt``."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"checkpoint name {name!r} must be a plain file name such as 'dcgan'")
        return self.checkpoint_dir / f"{name}.pt"

    def choose(self, *, full: T, smoke: T) -> T:
        """Pick a value by mode: ``epochs = settings.choose(full=8, smoke=1)``."""
        return smoke if self.smoke else full


def _parse_flag(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"{name} must be 1 (on) or 0 (off), got {value!r}. Example: {name}=1")


def get_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (or from ``environ`` in tests).

    Raises:
        ValueError: if ``COURSE_SMOKE`` is not a recognisable on/off value.
    """
    env = os.environ if environ is None else environ
    smoke = _parse_flag("COURSE_SMOKE", env.get("COURSE_SMOKE", "0"))
    data_dir = env.get("COURSE_DATA_DIR") or _default_folder("data")
    ckpt_dir = env.get("COURSE_CHECKPOINT_DIR") or _default_folder("checkpoints")
    photos_dir = env.get("COURSE_PHOTOS_DIR") or None
    return Settings(
        smoke=smoke,
        data_dir=Path(data_dir).expanduser().resolve(),
        checkpoint_root=Path(ckpt_dir).expanduser().resolve(),
        photos_dir=Path(photos_dir).expanduser().resolve() if photos_dir else None,
    )
