"""Reading uploads from ipywidgets 7, ipywidgets 8 and Colab, always through the safe loader."""

import io
import sys
import types

import numpy as np
import pytest
import torch
from PIL import Image

import course_utils as cu
from course_utils import widgets as W


def _png(w=20, h=10, mode="RGB") -> bytes:
    a = (np.arange(w * h * 3).reshape(h, w, 3) % 251).astype(np.uint8)
    img = Image.fromarray(a).convert(mode)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_ipywidgets_7_value():
    value = {"photo.png": {"metadata": {"name": "photo.png", "type": "image/png", "size": 99},
                           "content": _png()}}
    [(name, img)] = W.load_uploaded_images(value)
    assert name == "photo.png" and img.shape == (3, 10, 20)
    torch.testing.assert_close(img, cu.load_image(_png()))


def test_ipywidgets_8_value_with_memoryview():
    value = ({"name": "a.png", "type": "image/png", "size": 99, "content": memoryview(_png()),
              "last_modified": 0},
             {"name": "b.png", "type": "image/png", "size": 99, "content": memoryview(_png(8, 40, "L")),
              "last_modified": 0})
    images = W.load_uploaded_images(value, max_side=20)
    assert [n for n, _ in images] == ["a.png", "b.png"]
    assert images[1][1].shape == (3, 20, 4)  # grayscale -> RGB, shrunk to max_side


def test_colab_value_and_colab_upload(monkeypatch):
    value = {"cat.png": _png()}
    assert W.uploaded_files(value) == [("cat.png", _png())]
    assert not W.in_colab()
    with pytest.raises(RuntimeError, match="only exists in Google Colab"):
        W.colab_upload_images()
    files = types.SimpleNamespace(upload=lambda: value)
    colab = types.ModuleType("google.colab")
    colab.files = files
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert W.in_colab()
    [(name, img)] = W.colab_upload_images(max_side=16)
    assert name == "cat.png" and img.shape == (3, 8, 16)


def test_empty_uploads():
    assert W.uploaded_files(None) == [] and W.uploaded_files({}) == [] and W.uploaded_files(()) == []


def test_bad_uploads_get_clear_errors():
    with pytest.raises(cu.ImageLoadError, match="notes.txt: .*not an image"):
        W.load_uploaded_images({"notes.txt": {"content": b"hello, world"}})
    with pytest.raises(cu.ImageLoadError, match="empty.png: .*empty"):
        W.load_uploaded_images(({"name": "empty.png", "content": memoryview(b"")},))
    with pytest.raises(TypeError, match="not an upload value"):
        W.uploaded_files(42)
    with pytest.raises(TypeError, match="ipywidgets 8"):
        W.uploaded_files(("a", "b"))


def test_upload_widget_works_with_the_installed_ipywidgets():
    w = W.upload_widget()
    assert w.accept == "image/*" and w.multiple is False
    assert W.load_uploaded_images(w.value) == []
    assert W.ipywidgets_major() in (7, 8)
