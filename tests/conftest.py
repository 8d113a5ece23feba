"""Shared fixtures: the data folder (the offline mirror in CI) and a fresh checkpoint folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import course_utils as cu

REPO = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    if os.environ.get("COURSE_DATA_DIR"):
        return Path(os.environ["COURSE_DATA_DIR"])
    mirror = REPO.parent / "shared" / "data"
    return mirror if mirror.is_dir() else REPO / "data"


@pytest.fixture
def settings(tmp_path) -> cu.Settings:
    """Smoke settings on the real data folder, with checkpoints in a fresh temporary folder."""
    return cu.get_settings({"COURSE_SMOKE": "1", "COURSE_DATA_DIR": str(_data_dir()),
                            "COURSE_CHECKPOINT_DIR": str(tmp_path / "checkpoints")})


@pytest.fixture(scope="session")
def session_settings(tmp_path_factory) -> cu.Settings:
    """Like ``settings``, but one for the whole test session: for module-scoped fixtures that
    load data once (checkpoints go to a fresh folder of their own)."""
    return cu.get_settings({"COURSE_SMOKE": "1", "COURSE_DATA_DIR": str(_data_dir()),
                            "COURSE_CHECKPOINT_DIR": str(tmp_path_factory.mktemp("checkpoints"))})


@pytest.fixture
def empty_settings(tmp_path) -> cu.Settings:
    """Settings whose data folder is empty: every file must be downloaded."""
    return cu.get_settings({"COURSE_SMOKE": "1", "COURSE_DATA_DIR": str(tmp_path / "empty"),
                            "COURSE_CHECKPOINT_DIR": str(tmp_path / "checkpoints")})
