"""Small helpers for widgets that work in JupyterLab (ipywidgets 8) and Google Colab (ipywidgets 7).

The two versions of ``ipywidgets.FileUpload`` give the uploaded files in
different shapes:

* ipywidgets 7: ``value`` is a dict ``{name: {"metadata": {...}, "content": bytes}}``;
* ipywidgets 8: ``value`` is a tuple of dicts ``{"name": ..., "type": ...,
  "size": ..., "content": memoryview, "last_modified": ...}``.

In Colab, ``google.colab.files.upload()`` returns ``{name: bytes}`` instead.
:func:`uploaded_files` reads all three, and :func:`load_uploaded_images` passes
every file through the course's safe loader :func:`~course_utils.images.load_image`.
Introduced in notebook 02 ("use your own photo").
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .images import ImageLoadError, load_image


def in_colab() -> bool:
    """True when running in Google Colab."""
    return "google.colab" in sys.modules


def ipywidgets_major() -> int:
    """The major version of the installed ipywidgets (7 in Colab, 8 in current JupyterLab)."""
    import ipywidgets

    return int(ipywidgets.__version__.split(".")[0])


def uploaded_files(value: Any) -> list[tuple[str, bytes]]:
    """``[(file name, bytes), ...]`` from a ``FileUpload.value`` of ipywidgets 7 or 8, or Colab's upload.

    Args:
        value: ``widget.value`` of an ``ipywidgets.FileUpload`` (a dict in
            version 7, a tuple of dicts in version 8), or the dict
            ``{name: bytes}`` returned by ``google.colab.files.upload()``.

    Raises:
        TypeError: if ``value`` has none of these shapes.
    """
    if value is None:
        return []
    if isinstance(value, Mapping):
        files = []
        for name, item in value.items():
            if isinstance(item, bytes | bytearray | memoryview):  # Colab: {name: bytes}
                files.append((str(name), bytes(item)))
            elif isinstance(item, Mapping) and "content" in item:  # ipywidgets 7
                files.append((str(name), bytes(item["content"])))
            else:
                raise TypeError(f"cannot read the upload {name!r}: expected bytes or a dict with 'content'")
        return files
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):  # ipywidgets 8
        files = []
        for i, item in enumerate(value):
            if not (isinstance(item, Mapping) and "content" in item):
                raise TypeError(f"upload {i} is not a dict with 'name' and 'content' (ipywidgets 8 format)")
            files.append((str(item.get("name", f"upload {i}")), bytes(item["content"])))
        return files
    raise TypeError(f"not an upload value: {type(value).__name__}. Pass FileUpload.value or the dict "
                    "returned by google.colab.files.upload().")


def load_uploaded_images(value: Any, max_side: int | None = None) -> list[tuple[str, torch.Tensor]]:
    """Every uploaded image as ``(name, [3, H, W] tensor in [0, 1])``, through :func:`load_image`.

    Raises:
        ImageLoadError: if a file is not an image the course can read; the
            message names the file.
    """
    images = []
    for name, data in uploaded_files(value):
        try:
            images.append((name, load_image(data, max_side=max_side)))
        except ImageLoadError as err:
            raise ImageLoadError(f"{name}: {err}") from err
    return images


def upload_widget(description: str = "Upload a photo"):
    """An ``ipywidgets.FileUpload`` for one image (the same arguments work in ipywidgets 7 and 8)."""
    import ipywidgets as widgets

    return widgets.FileUpload(accept="image/*", multiple=False, description=description)


def colab_upload_images(max_side: int | None = None) -> list[tuple[str, torch.Tensor]]:
    """In Colab, open the browser's file dialog (``google.colab.files.upload``) and load the images.

    Raises:
        RuntimeError: outside Colab.
    """
    if not in_colab():
        raise RuntimeError("google.colab.files only exists in Google Colab; use upload_widget() elsewhere")
    from google.colab import files  # type: ignore[import-not-found]

    return load_uploaded_images(files.upload(), max_side=max_side)
