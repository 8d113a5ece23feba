"""Does a decoded image match its file? Checks for the formats that have no checksums.

PNG protects its header and data with CRCs and zlib's checksum, so a damaged PNG fails
to decode. JPEG, GIF, BMP, TIFF and WebP do not: when a byte of the header that holds
the width or height changes, Pillow's decoders silently return a picture of the new
size, filled with grey where the data ran out, or cropped and sheared where data was
left over. :func:`problem` finds these cases with two rules that hold for every
correct file:

* **The data is used to its end.** Where the size can be computed from the header
  (uncompressed BMP and TIFF), the pixel data must have exactly that size. Where the
  data is compressed (JPEG, WebP, compressed TIFF), its last bytes must matter: they
  are replaced by fillers, and if the picture stays the same while the same change
  at the start of the data does change it, the end was never read: the header
  declares fewer pixels than the file holds.
* **The data does not run out.** libjpeg fills the rest of a picture with grey when
  its data ends early, without an error. Two different fillers are inserted after
  each scan: if the pictures differ, the decoder read them, so the real data was not
  enough for the size the header declares (this decode is at 1/8 scale, Pillow's
  draft mode, which still reads every bit of the data).
* GIF stores its size twice (the canvas and the first frame): the two must agree.

A correct file passes these checks at the cost of two or three extra decodes; they are
evidence-based, so a file whose data does not show in the picture (a uniform colour)
is never refused for it.
"""

from __future__ import annotations

import io
import struct
from typing import Any

import numpy as np
from PIL import Image

#: The tail that must matter: a quarter of the pixel data, at most this many bytes. Not just
#: the last few bytes: those may code only blocks of the last row or column that lie
#: outside the picture (JPEG and WebP code whole 8x8 or 16x16 blocks).
TAIL_BYTES = 64
_RNG = np.random.default_rng(20261202)
#: Two different fillers without 0xFF bytes (which would be markers in a JPEG).
FILLERS = tuple(_RNG.integers(0, 255, TAIL_BYTES, dtype=np.uint8).tobytes() for _ in range(2))


def facts(img: Image.Image) -> dict[str, Any]:
    """What :func:`problem` needs from the header; call it before ``img.load()`` (which clears ``tile``)."""
    return {"format": img.format, "size": img.size, "mode": img.mode,
            "tile": [(t[0], tuple(t[1]), t[2]) for t in (img.tile or [])],
            "tags": dict(img.tag_v2) if img.format == "TIFF" else {}}


def problem(f: dict[str, Any], data: bytes, decoded: np.ndarray | None = None) -> str | None:
    """None if the decoded size and the data agree, else what is wrong (for an error message).

    Args:
        f: :func:`facts` of the image, taken before it was loaded.
        data: the file's bytes.
        decoded: ``np.asarray`` of the loaded image, if at hand (saves a decode).
    """
    checks = {"BMP": _bmp, "GIF": _gif, "TIFF": _tiff, "JPEG": _jpeg, "MPO": _jpeg, "WEBP": _webp}
    check = checks.get(f["format"])
    return check({**f, "decoded": decoded}, data) if check else None


# ---------------------------------------------------------------- decoding variants


def _decode(data: bytes, fmt: str, draft: bool) -> np.ndarray | None:
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:
            if draft:
                im.draft(im.mode, (max(1, im.size[0] // 8), max(1, im.size[1] // 8)))
            im.load()
            return np.asarray(im)
    except Exception:  # noqa: BLE001 - a filler that breaks the decoder was read: that is the answer
        return None


def _differ(variants: list[bytes], fmt: str, draft: bool = False) -> bool:
    a, b = (_decode(v, fmt, draft) for v in variants)
    return a is None or b is None or a.shape != b.shape or not np.array_equal(a, b)


def _tail_is_used(data: bytes, start: int, end: int, fmt: str, base: np.ndarray | None, jpeg: bool = False,
                  tail: int = TAIL_BYTES) -> bool:
    """Whether the last ``tail`` bytes of ``data[start:end]`` (at most a quarter of them) matter.

    They matter when replacing them by a filler changes the picture (or breaks the decoder).
    When neither filler changes it, the same replacement is tried on the first bytes, which
    every decoder reads: if those matter, the tail was never read; if they do not either
    (a uniform picture looks the same whatever its data), there is no evidence either way.
    """
    k = min(tail, (end - start) // 4)
    if base is None and k >= 2:
        base = _decode(data, fmt, draft=False)
    if k < 2 or base is None or (base == base.reshape(-1, *base.shape[2:])[0]).all():
        return True  # too little data, or a picture of one colour: no evidence either way

    def matters(lo: int, hi: int) -> bool:
        where = [i for i in range(lo, hi) if not jpeg or (data[i] != 0xFF and data[i - 1] != 0xFF)]
        for filler in FILLERS:
            b = bytearray(data)
            for i, v in zip(where, filler, strict=False):
                b[i] = v
            got = _decode(bytes(b), fmt, draft=False)
            if got is None or got.shape != base.shape or not np.array_equal(got, base):
                return True
        return False

    return matters(end - k, end) or not matters(start, start + k)


# ---------------------------------------------------------------- formats


def _bmp(f: dict[str, Any], data: bytes) -> str | None:
    offset, dib = struct.unpack("<II", data[10:18])
    if dib < 40:
        return None  # OS/2 1.x header: rare, and Pillow checks it
    width, height, _, bpp, compression = struct.unpack("<iiHHI", data[18:34])
    if compression not in (0, 3, 6):  # RLE and embedded JPEG/PNG: decoders check their own data
        return None
    stride = (abs(width) * bpp + 31) // 32 * 4
    end = offset + stride * abs(height)
    extra = len(data) - end
    if dib >= 124 and data[70:74] == b"DEBM" and extra > 0:  # V5 header with an ICC profile after the pixels
        extra -= struct.unpack("<I", data[14 + 116:14 + 120])[0]
    if extra >= stride:
        return (f"its header says {abs(width)}x{abs(height)} pixels, but it holds {extra:,} more bytes "
                "of pixel data than that")
    return None


def _gif(f: dict[str, Any], data: bytes) -> str | None:
    canvas = struct.unpack("<HH", data[6:10])
    frame = next((box for name, box, _ in f["tile"] if name == "gif"), None)
    if canvas != tuple(f["size"]) or (frame is not None and frame != (0, 0, *canvas)):
        return (f"its canvas is {canvas[0]}x{canvas[1]} but its first frame is "
                f"{'x'.join(map(str, frame[2:])) if frame else 'missing'} at {frame[:2] if frame else ''}")
    return None


def _tiff(f: dict[str, Any], data: bytes) -> str | None:
    tags = f["tags"]
    offsets, counts = tags.get(273), tags.get(279)
    if not offsets or not counts or len(offsets) != len(counts) or 322 in tags:
        return None  # tiled, or no strips: libtiff checks those itself
    w, h = f["size"]
    compression = tags.get(259, 1)
    if compression == 1:  # uncompressed: the size of the data follows from the header
        bits = tags.get(258, (1,))
        bits = sum(bits) if tags.get(284, 1) == 1 else bits[0]
        row = (w * bits + 7) // 8
        have, need = sum(counts), row * h * (1 if tags.get(284, 1) == 1 else len(tags.get(258, (1,))))
        if have < need or have - need >= row:
            return f"its header says {w}x{h} pixels ({need:,} bytes), but its strips hold {have:,} bytes"
        return None
    if compression not in (5, 8, 32946, 32773):  # LZW, deflate, PackBits; JPEG-in-TIFF is not checked
        return None
    start = offsets[-1]
    # The last bytes may hold an end code or a checksum that libtiff never needs: leave them out.
    if not _tail_is_used(data, start, start + counts[-1] - 6, "TIFF", f["decoded"]):
        return f"its header says {w}x{h} pixels, fewer than its compressed data holds (the end is never read)"
    return None


def _jpeg_scans(data: bytes) -> list[tuple[int, int]] | None:
    """``[(start, end), ...]`` of each scan's entropy-coded data; None if the markers are not as expected."""
    pos, n, scans = 2, len(data), []
    while pos + 2 <= n:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return scans
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if marker in (0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            return None  # lossless, hierarchical or arithmetic coding: not checked
        if pos + 4 > n:
            return None
        end = pos + 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker == 0xDA:
            i = end
            while i + 1 < n and not (data[i] == 0xFF and data[i + 1] not in (0x00, *range(0xD0, 0xD8))):
                i += 1
            scans.append((end, i))
            end = i
        pos = end
    return None


def _jpeg(f: dict[str, Any], data: bytes) -> str | None:
    scans = _jpeg_scans(data)
    if not scans:
        return None
    w, h = f["size"]
    inserted = []
    for filler in FILLERS:
        b = data
        for _, end in reversed(scans):
            b = b[:end] + filler + b[end:]
        inserted.append(b)
    if _differ(inserted, "JPEG", draft=True):
        return (f"its header says {w}x{h} pixels, more than its data holds (the decoder ran out of data "
                "and would fill the rest with grey)")
    start, end = max(scans, key=lambda se: se[1] - se[0])  # the largest scan has the most to lose
    if not _tail_is_used(data, start, end, "JPEG", f["decoded"], jpeg=True):
        return f"its header says {w}x{h} pixels, fewer than its data holds (the end is never read)"
    return None


def _webp(f: dict[str, Any], data: bytes) -> str | None:
    pos = 12
    while pos + 8 <= len(data):
        kind, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if kind in (b"VP8 ", b"VP8L"):
            start, end = pos + 8, min(pos + 8 + size, len(data))
            # lossless WebP codes pixel by pixel: its very last bytes matter
            if not _tail_is_used(data, start, end, "WEBP", f["decoded"],
                                 tail=4 if kind == b"VP8L" else TAIL_BYTES):
                w, h = f["size"]
                return f"its header says {w}x{h} pixels, fewer than its data holds (the end is never read)"
            return None
        pos += 8 + size + (size & 1)
    return None
