"""Random numbers: seeding, saving and restoring every generator the course uses.

The generators are Python's ``random``, NumPy's global generator, and PyTorch's on the
CPU, on every CUDA device and on Apple's MPS device. :func:`seed_everything` seeds them
all; :func:`rng_state` and :func:`set_rng_state` save and restore them (the training loop
stores them in its checkpoints, so that a resumed run draws the same numbers as an
uninterrupted one); :func:`isolated_rng` runs a block with its own seed and then gives the
caller back exactly the random numbers it had. (``torch.random.fork_rng`` protects only
PyTorch's generators, not Python's or NumPy's.)
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def seed_everything(seed: int, deterministic_algorithms: bool = False) -> None:
    """Seed Python, NumPy and PyTorch (CPU, CUDA and MPS) and set the cuDNN flags.

    cuDNN is set to deterministic kernels with autotuning off, so that a run can
    be repeated. ``deterministic_algorithms=True`` additionally asks PyTorch to
    use deterministic algorithms everywhere (slower; warns where none exists).
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA and MPS device
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    if deterministic_algorithms:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)


def rng_state() -> dict[str, Any]:
    """The states of Python's, NumPy's and PyTorch's generators (CPU, CUDA, MPS), as safe-to-load types.

    Only tensors, numbers, tuples and dicts, so that a checkpoint holding them loads with
    ``torch.load(weights_only=True)``.
    """
    np_state = np.random.get_state(legacy=False)
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if _mps_available():
        state["mps"] = torch.mps.get_rng_state()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore :func:`rng_state`. Device states are restored only where that device exists."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state(
        ("MT19937", n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "mps" in state and _mps_available():
        torch.mps.set_rng_state(state["mps"])


@contextlib.contextmanager
def isolated_rng(seed: int | None = None) -> Iterator[None]:
    """Run a block with its own random numbers and give the caller's back afterwards.

    Saves every generator (:func:`rng_state`), seeds them all with ``seed`` (unless it is
    None), runs the block, and restores the saved states, also when the block raises or
    is interrupted. Whatever the block draws, seeds or restores (a resumed training run
    restores the states saved in its checkpoint), the caller's next random number is
    the one it would have drawn without the block::

        with cu.rng.isolated_rng(seed=0):
            model = train_something()   # the same model wherever it is called
    """
    saved = rng_state()
    try:
        if seed is not None:
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)
        yield
    finally:
        set_rng_state(saved)
