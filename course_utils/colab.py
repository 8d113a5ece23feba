"""Google Colab support: where data and trained models go in a Colab session.

The single setup cell at the top of every notebook installs the course with pip
(Colab's own torch and torchvision satisfy the course's ranges, so they are not
reinstalled) and then calls :func:`configure_colab`. Outside Colab that cell does
nothing, and nothing in this module is needed.
"""

from __future__ import annotations

import os
import sys

COLAB_DATA_DIR = "/content/course-data"
COLAB_LOCAL_CHECKPOINTS = "/content/checkpoints"


def in_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules


def configure_colab(checkpoints_on_drive: bool = True, drive_folder: str = "image-generation-course") -> dict:
    """Set ``COURSE_DATA_DIR`` and ``COURSE_CHECKPOINT_DIR`` for this Colab session.

    Data goes to the runtime's disk (it is downloaded again in a new session).
    Trained models go to Google Drive when ``checkpoints_on_drive`` is true (Colab
    asks for permission), so that they survive the end of the session; otherwise
    to the runtime's disk. Variables that are already set are left alone.

    Returns:
        The two folders, by variable name.
    """
    if not in_colab():
        print("Not running in Google Colab: nothing to configure.")
        return {}
    os.environ.setdefault("COURSE_DATA_DIR", COLAB_DATA_DIR)
    if checkpoints_on_drive and "COURSE_CHECKPOINT_DIR" not in os.environ:
        from google.colab import drive  # only importable inside Colab

        drive.mount("/content/drive")
        os.environ["COURSE_CHECKPOINT_DIR"] = f"/content/drive/MyDrive/{drive_folder}/checkpoints"
    os.environ.setdefault("COURSE_CHECKPOINT_DIR", COLAB_LOCAL_CHECKPOINTS)
    folders = {k: os.environ[k] for k in ("COURSE_DATA_DIR", "COURSE_CHECKPOINT_DIR")}
    for k, v in folders.items():
        print(f"{k}={v}")
    return folders
