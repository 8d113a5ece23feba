"""Device choice, and the environment report printed by every notebook's first cell.

The course's one device convention: a helper that takes a model runs where the model's
parameters are (:func:`module_device`); ``device=None`` means exactly that, and any other
value overrides it. Seeding lives in :mod:`course_utils.rng`.
"""

from __future__ import annotations

import platform
from importlib import metadata

import torch
from torch import nn

from .settings import Settings


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(verbose: bool = True) -> torch.device:
    """Pick the best available device: CUDA, then Apple MPS, then the CPU.

    Args:
        verbose: print which device was chosen and why.

    Returns:
        The ``torch.device`` to put models and tensors on.
    """
    if torch.cuda.is_available():
        device = torch.device("cuda")
        why = f"CUDA GPU: {torch.cuda.get_device_name(0)}"
    elif _mps_available():
        device = torch.device("mps")
        why = "Apple GPU through Metal (MPS)"
    else:
        device = torch.device("cpu")
        why = f"no CUDA or MPS GPU found; {torch.get_num_threads()} CPU threads"
    if verbose:
        print(f"Using device: {device} ({why})")
    return device


def module_device(module: nn.Module, device: torch.device | str | None = None) -> torch.device:
    """The device to run ``module`` on: ``device`` if given, else where its parameters (or buffers) are.

    A module without parameters or buffers runs on the CPU.
    """
    if device is not None:
        return torch.device(device)
    for t in (*module.parameters(), *module.buffers()):
        return t.device
    return torch.device("cpu")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment_report(settings: Settings, device: torch.device) -> str:
    """A short table of versions, device, mode and folders, for the first cell of a notebook."""
    try:
        import torchvision

        tv = torchvision.__version__
    except Exception as err:  # torchvision that does not match torch fails at import
        tv = f"cannot be imported ({type(err).__name__}: {err})"
    mode = (
        "smoke (COURSE_SMOKE=1): small data, few steps, small images"
        if settings.smoke
        else "full (set COURSE_SMOKE=1 for a quick smoke run)"
    )
    rows = [
        ("Course", f"image-generation-course {_version('image-generation-course')}"),
        ("Python", platform.python_version()),
        ("torch", torch.__version__),
        ("torchvision", tv),
        ("Device", f"{device} ({torch.get_num_threads()} threads)" if device.type == "cpu" else str(device)),
        ("Mode", mode),
        ("Data folder", f"{settings.data_dir}  (COURSE_DATA_DIR)"),
        ("Checkpoints", f"{settings.checkpoint_dir}  (COURSE_CHECKPOINT_DIR)"),
    ]
    return "\n".join(f"{k:<12} {v}" for k, v in rows)


def print_environment(settings: Settings, device: torch.device) -> None:
    """Print :func:`environment_report`."""
    print(environment_report(settings, device))
