"""Loading and saving images safely, as float tensors in [0, 1].

:func:`load_image` is the one door through which a photo or painting enters the
course, whether it comes from the asset registry, a URL or a learner's upload.
It turns every kind of bad input into an :class:`ImageLoadError` that says what
was wrong, instead of a traceback from deep inside Pillow or a silently wrong
image. Files are read through :mod:`course_utils.safe_io` (regular files only,
size cap before reading); :func:`save_image` (in :mod:`course_utils.image_save`, re-exported
here) writes them atomically. :mod:`course_utils.image_modes` converts Pillow's modes to RGB.

What the loader guarantees, for *any* input (tested with mutated files of every
accepted format in ``tests/test_fuzz_images.py``): it returns a float32 tensor
``[3, H, W]`` with finite values in [0, 1] and the size that the file declares,
whose data must fit that size (:mod:`course_utils.image_integrity`), or it raises
:class:`ImageLoadError`. The work it does is bounded: at most
:data:`MAX_BYTES` bytes are read, at most ``max_pixels`` pixels are decoded, and a
JPEG may have at most :data:`MAX_JPEG_SCANS` scans (each scan decodes the whole
image again, so thousands of them would make a small file decode for minutes).
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from . import image_integrity
from .image_modes import to_rgb_array
from .image_save import ImageSaveError, save_image  # the writer, re-exported here
from .safe_io import read_regular

#: Formats the loader accepts. Others (EPS, which runs Ghostscript; PSD; ICO; ...)
#: are refused: convert them to PNG or JPEG first. "JPEG" also opens the MPO
#: variant in which many cameras and phones store their photos.
SAFE_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF")

#: Largest image accepted, in pixels (width x height). Pillow's own limit (about
#: 89 megapixels) is far more than any notebook here can use; 40 megapixels is a
#: large camera photo. Larger files are refused before they are decoded.
MAX_PIXELS = 40_000_000

#: Largest file read, in bytes: a 40-megapixel 16-bit RGB TIFF without compression
#: (240 MB) still fits. Checked before reading, so ``/dev/zero`` is never read.
MAX_BYTES = 256 * 2**20

#: Most scans a JPEG may have. Progressive photos have about 10; each scan costs a
#: pass over the whole image.
MAX_JPEG_SCANS = 100

__all__ = ["ImageLoadError", "ImageSaveError", "load_image", "save_image", "SAFE_FORMATS", "MAX_PIXELS",
           "MAX_BYTES", "MAX_JPEG_SCANS"]


class ImageLoadError(ValueError):
    """An image file could not be loaded; the message says why and what to do."""


def _source_bytes(source: str | os.PathLike | bytes | memoryview, max_bytes: int) -> tuple[bytes, str]:
    """Read the raw bytes of a file, URL, or in-memory upload, and a name for messages."""
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) > max_bytes:
            raise ImageLoadError(f"the uploaded image is {len(source) / 2**20:,.0f} MB, more than the "
                                 f"limit of {max_bytes / 2**20:,.0f} MB. Resize it first.")
        return bytes(source), "the uploaded image"
    text = os.fspath(source)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if text.startswith(("http://", "https://")):
        text = _download(text)
    path = Path(text).expanduser()
    return read_regular(path, error=ImageLoadError, what="image", max_bytes=max_bytes), str(path)


def _download(url: str) -> str:
    import pooch

    from .assets import ASSETS

    known = {a.url: a.sha256 for a in ASSETS.values()}
    try:
        return pooch.retrieve(url, known_hash=f"sha256:{known[url]}" if url in known else None,
                              progressbar=False)
    except Exception as err:  # pooch raises requests', urllib's and its own errors
        raise ImageLoadError(
            f"Could not download {url}: {type(err).__name__}: {err}. Check the address and "
            "your connection, or download the file yourself and pass its path."
        ) from err


def _jpeg_scans(data: bytes) -> int:
    """How many scans (SOS markers) a JPEG has. Entropy-coded data stuffs every 0xFF with
    0x00, so ``FF DA`` only occurs as a marker (embedded thumbnails add theirs)."""
    return data.count(b"\xff\xda")


def load_image(
    source: str | os.PathLike | bytes | memoryview,
    max_side: int | None = None,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_BYTES,
) -> torch.Tensor:
    """Load an image as an RGB float tensor in [0, 1].

    Applies the EXIF orientation (phone photos), converts grayscale, RGBA and
    colour-keyed transparency (over white), palette, CMYK and 16-bit images to
    8-bit-accurate RGB, and optionally shrinks the image so that its longer side
    is ``max_side``.

    Args:
        source: a file path, an ``http(s)://`` URL (downloaded and cached by
            pooch; registry URLs are checked against their sha256), or the raw
            bytes of an uploaded file (``bytes`` or ``memoryview``, as the
            upload widgets of ipywidgets 7 and 8 give them).
        max_side: if given, downscale (never upscale) so that
            ``max(H, W) <= max_side``, with antialiasing.
        max_pixels: refuse images with more pixels than this before decoding
            them (decompression bombs). This is a lower, per-call version of
            Pillow's global ``Image.MAX_IMAGE_PIXELS``, which is left untouched.
        max_bytes: refuse files larger than this before reading them.

    Returns:
        Tensor of shape ``[3, H, W]``, dtype float32, values in [0, 1].

    Raises:
        ImageLoadError: empty, missing, unreadable, non-image, damaged,
            truncated, too large or unsupported-format input, with a message
            that says which.
    """
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels, got {max_side}")
    data, name = _source_bytes(source, max_bytes)
    if len(data) == 0:
        raise ImageLoadError(f"{name} is empty (0 bytes). Was the download or upload interrupted?")
    img = _open(data, name)
    try:
        rgb = _decode(img, data, name, max_pixels, max_side)
    finally:
        img.close()
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).contiguous()


def _decoding(name: str, step, *args):
    """Run a Pillow step on untrusted data: any error it raises means a damaged file (see _open)."""
    try:
        return step(*args)
    except Exception as err:  # noqa: BLE001 - decoders raise OSError, ValueError, SyntaxError, ...
        raise ImageLoadError(
            f"{name} is damaged or truncated and cannot be decoded ({type(err).__name__}: {err}). "
            "Download or copy it again, or open and re-save it in an image editor."
        ) from err


def _open(data: bytes, name: str) -> Image.Image:
    """Read the header (nothing is decoded yet), refusing formats outside :data:`SAFE_FORMATS`.

    Pillow's header parsers raise many kinds of exceptions on damaged input (``OSError``,
    ``SyntaxError``, ``ValueError``, ``struct.error``, ``IndexError``, ...); since the data
    is untrusted, every one of them means "damaged file", and becomes an ImageLoadError.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit and raises above twice that; make both an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=SAFE_FORMATS)
    except Image.UnidentifiedImageError as err:
        fmt = _identify_any_format(data)
        if fmt is not None:
            raise ImageLoadError(
                f"{name} is a {fmt} file, which this course does not accept "
                f"(accepted: {', '.join(SAFE_FORMATS)}). Convert it to PNG or JPEG first."
            ) from err
        raise ImageLoadError(
            f"{name} is not an image that can be read (its first bytes are {data[:8]!r}). "
            "Is it really a picture? Accepted formats: " + ", ".join(SAFE_FORMATS) + "."
        ) from err
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageLoadError(f"{name} is too large to load safely: {err}") from err
    except Exception as err:  # noqa: BLE001 - any header parser error means a damaged file
        raise ImageLoadError(
            f"{name} looks like an image but its header is damaged ({type(err).__name__}: {err}). "
            "Download or copy it again, or open and re-save it in an image editor."
        ) from err


def _decode(img: Image.Image, data: bytes, name: str, max_pixels: int, max_side: int | None) -> np.ndarray:
    w, h = img.size
    if w * h > max_pixels:
        raise ImageLoadError(
            f"{name} is {w}x{h} = {w * h / 1e6:.0f} megapixels, more than the limit of "
            f"{max_pixels / 1e6:.0f} megapixels (a guard against decompression bombs). "
            "Resize it first, or pass a larger max_pixels if you trust the file."
        )
    if w == 0 or h == 0:
        raise ImageLoadError(f"{name} has no pixels ({w}x{h}).")
    if img.format in ("JPEG", "MPO") and _jpeg_scans(data) > MAX_JPEG_SCANS:
        raise ImageLoadError(f"{name} is a JPEG with {_jpeg_scans(data)} scans (photos have about 10; "
                             f"the limit is {MAX_JPEG_SCANS}): damaged or made to be slow. Re-save it.")
    header = image_integrity.facts(img)
    _decoding(name, img.load)
    problem = image_integrity.problem(header, data, np.asarray(img))
    if problem:
        raise ImageLoadError(f"{name} is damaged: {problem}. Download or copy it again.")
    rgb = _decoding(name, _to_rgb, img, max_side)
    if not np.isfinite(rgb).all():
        raise ImageLoadError(f"{name} has pixels that are not numbers (NaN or infinite). "
                             "Open and re-save it in an image editor.")
    return rgb


def _to_rgb(img: Image.Image, max_side: int | None) -> np.ndarray:
    """EXIF orientation, optional shrinking, then the conversion to RGB (:mod:`.image_modes`)."""
    img = ImageOps.exif_transpose(img)
    if max_side is not None and max(img.size) > max_side:
        img = img.copy()
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return to_rgb_array(img)


def _identify_any_format(data: bytes) -> str | None:
    """The format name of a file Pillow can identify but the course refuses (header only)."""
    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only; nothing is decoded
            return img.format
    except Exception:  # noqa: BLE001 - any failure here just means "not an image"
        return None
