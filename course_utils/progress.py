"""Progress bars that behave in JupyterLab and stay short in CI logs.

``tqdm.auto`` draws a widget bar in JupyterLab and Colab and a text bar in a
terminal. When nobody is watching (output to a file or a CI log), the bar is
redrawn at most every 30 s so that a log stays a few lines long. Set
``TQDM_DISABLE=1`` to switch all bars off.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def _watched() -> bool:
    """True in a notebook kernel or an interactive terminal."""
    if "ipykernel" in sys.modules:
        return True
    stream = getattr(sys, "stderr", None)
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def progress(iterable: Iterable[T] | None = None, *, desc: str = "", total: int | None = None,
             leave: bool = True, enabled: bool = True, **kwargs: Any) -> tqdm:
    """A ``tqdm.auto`` bar with course defaults (see the module docstring)."""
    kwargs.setdefault("mininterval", 0.2 if _watched() else 30.0)
    kwargs.setdefault("dynamic_ncols", True)
    if not enabled:
        kwargs["disable"] = True
    return tqdm(iterable, desc=desc, total=total, leave=leave, **kwargs)
