"""Fuzzing the image loader: thousands of damaged PNG, JPEG, GIF, TIFF, BMP and WEBP files.

Every mutated file must give a *correct result* or the course's ``ImageLoadError``:
never another exception, never a hang, never a silently wrong picture. What counts as
correct (``_judge``):

* always: a float32 tensor ``[3, H, W]`` with finite values in [0, 1];
* its size is the original's, or one that the mutated file itself declares *and* holds
  data for. A header mutation that changes the size must otherwise be refused: the
  picture would be filled with grey where the data ran out, or cropped and sheared
  where data was left over ("garbage size"). Two size changes are self-consistent
  files that every viewer shows the same way, so they are correct: JPEG and lossy
  WebP code pixels in blocks (16x16 for colour JPEGs and WebP, 8x8 for grey JPEGs), and
  a width or height changed within the same number of blocks is a valid file of that
  size; and a changed EXIF orientation shows the picture turned (height and width
  swapped);
* a *truncated* file that still decodes must give exactly the original picture (only
  bytes after the image data were cut); anything else is a partly grey picture passed
  off as the real one;
* a flipped bit in the pixel data may change pixels (formats without checksums cannot
  tell), so other pixel values of the right size are correct.
"""

from __future__ import annotations

import io
import os
import struct
import time

import numpy as np
import pytest
import torch
from _fuzz import Tally, mutations
from PIL import Image

import course_utils as cu

SEED = 20261202


def _picture(w: int = 40, h: int = 30) -> np.ndarray:
    """Gradients, a disc and some noise: a small picture that compresses like a real one."""
    y, x = np.mgrid[0:h, 0:w]
    a = np.zeros((h, w, 3), np.float64)
    a[..., 0] = x / w
    a[..., 1] = y / h
    a[..., 2] = ((x - w / 2) ** 2 + (y - h / 2) ** 2 < (h / 3) ** 2) * 0.8
    a += np.random.default_rng(0).normal(0, 0.04, a.shape)
    return (np.clip(a, 0, 1) * 255).astype(np.uint8)


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _data_start(data: bytes, fmt: str) -> list[tuple[int, int]]:
    """The header byte ranges of a file: everything that describes the image, not its pixels."""
    n = len(data)
    if fmt == "PNG":
        return [(0, data.index(b"IDAT") + 4)]
    if fmt == "JPEG":
        sos = data.index(b"\xff\xda")
        return [(0, sos + 2 + struct.unpack(">H", data[sos + 2:sos + 4])[0])]
    if fmt == "GIF":
        pos = 13 + (3 * 2 ** ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
        while data[pos] == 0x21:  # extension blocks
            pos += 2
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
        return [(0, pos + 11)]
    if fmt == "BMP":
        return [(0, struct.unpack("<I", data[10:14])[0])]
    if fmt == "TIFF":
        with Image.open(io.BytesIO(data)) as im:
            offsets, counts = im.tag_v2[273], im.tag_v2[279]
        start, end = min(offsets), max(o + c for o, c in zip(offsets, counts, strict=True))
        return [(0, start), (end, n)]
    if fmt == "WEBP":
        return [(0, min(n, 40))]
    raise ValueError(fmt)


def corpus() -> list[tuple[str, str, bytes, int | None, bool]]:
    """``(name, format, file, block size, has EXIF orientation)``: the originals, in the modes and
    variants each format has."""
    rgb = Image.fromarray(_picture())
    gray = rgb.convert("L")
    pal = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=32)
    rgba = rgb.copy()
    rgba.putalpha(Image.fromarray((_picture()[..., 0] > 100).astype(np.uint8) * 255))
    exif = Image.Exif()
    exif[0x0112] = 6
    return [
        ("png-rgb", "PNG", _encode(rgb, "PNG"), None, False),
        ("png-gray-trns", "PNG", _encode(gray, "PNG", transparency=128), None, False),
        ("png-palette-trns", "PNG", _encode(pal, "PNG", transparency=0), None, False),
        ("png-16bit", "PNG", _encode(Image.fromarray(np.asarray(gray, np.uint16) * 257), "PNG"), None,
         False),
        ("png-rgba-interlaced", "PNG", _encode(rgba, "PNG", interlace=1), None, False),
        ("jpeg-baseline", "JPEG", _encode(rgb, "JPEG", quality=90), 16, False),
        ("jpeg-progressive-exif", "JPEG", _encode(rgb, "JPEG", progressive=True, exif=exif.tobytes()), 16,
         True),
        ("jpeg-gray", "JPEG", _encode(gray, "JPEG"), 8, False),
        ("gif-trns", "GIF", _encode(pal, "GIF", transparency=0), None, False),
        ("tiff-raw", "TIFF", _encode(rgb, "TIFF"), None, False),
        ("tiff-lzw", "TIFF", _encode(rgb, "TIFF", compression="tiff_lzw"), None, False),
        ("tiff-deflate-gray", "TIFF", _encode(gray, "TIFF", compression="tiff_adobe_deflate"), None, False),
        ("bmp-24", "BMP", _encode(rgb, "BMP"), None, False),
        ("bmp-8", "BMP", _encode(pal, "BMP"), None, False),
        ("webp-lossy", "WEBP", _encode(rgb, "WEBP", quality=80), 16, False),
        ("webp-lossless-alpha", "WEBP", _encode(rgba, "WEBP", lossless=True), None, False),
    ]


def _size_is_consistent(size: tuple[int, int], original: tuple[int, int], block: int | None,
                        exif: bool) -> bool:
    """The size of the original, or one the mutated file can hold (see the module's docstring)."""
    for h0, w0 in [original] + ([original[::-1]] if exif else []):
        if size == (h0, w0):
            return True
        if block and all(-(-a // block) == -(-b // block) for a, b in zip(size, (h0, w0), strict=True)):
            return True
    return False


def _judge(original: torch.Tensor, kind: str, block: int | None, exif: bool):
    def judge(t) -> str:
        if not isinstance(t, torch.Tensor) or t.dtype != torch.float32 or t.dim() != 3 or t.shape[0] != 3:
            return f"not a float32 [3, H, W] tensor: {getattr(t, 'shape', t)}"
        if not torch.isfinite(t).all() or t.min() < 0 or t.max() > 1:
            return "values outside [0, 1]"
        if not _size_is_consistent(tuple(t.shape[1:]), tuple(original.shape[1:]), block, exif):
            return f"size {tuple(t.shape)} instead of {tuple(original.shape)}"
        if kind == "truncate" and not torch.equal(t, original):
            return "a truncated file decoded to another picture"
        return "correct"
    return judge


def run_image_fuzz(per_file: dict[str, int], seed: int = SEED, limit_s: float = 5.0) -> Tally:
    rng = np.random.default_rng(seed)
    tally = Tally()
    for name, fmt, data, block, exif in corpus():
        original = cu.load_image(data)
        for label, kind, mutated in mutations(data, _data_start(data, fmt), rng, **per_file):
            tally.run(fmt, f"{name} {label}", lambda m=mutated: cu.load_image(m),
                      _judge(original, kind, block, exif), cu.ImageLoadError, limit_s)
    return tally


PER_FILE = {"truncations": 60, "flips": 120, "header_edits": 200, "splices": 40}


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's "Corrupt EXIF data" and the like: expected here
def test_fuzz_images_every_input_gives_a_correct_image_or_the_course_error():
    t0 = time.perf_counter()
    tally = run_image_fuzz(PER_FILE)
    seconds = time.perf_counter() - t0
    print(f"\nimage fuzz, seed {SEED}, {seconds:.1f} s (load {os.getloadavg()[0]:.1f}):\n{tally.report()}")
    total = tally.total()
    assert sum(total.values()) > 5000
    assert total.get("correct", 0) > 500 and total.get("course_error", 0) > 500  # both paths exercised
    assert not tally.failures, "\n".join(tally.failures[:40])
    assert tally.slowest < 5


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "TIFF", "BMP", "WEBP"])
def test_every_format_is_in_the_corpus(fmt):
    assert fmt in {f for _, f, *_ in corpus()}
