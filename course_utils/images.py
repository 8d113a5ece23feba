"""Loading and saving images safely, as float tensors in [0, 1].

:func:`load_image` is the one door through which a photo or painting enters the
course, whether it comes from the asset registry, a URL or a learner's upload.
It turns every kind of bad input into an :class:`ImageLoadError` that says what
was wrong, instead of a traceback from deep inside Pillow or a silently wrong
image.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

#: Formats the loader accepts. Others (EPS, which runs Ghostscript; PSD; ICO; ...)
#: are refused: convert them to PNG or JPEG first. "JPEG" also opens the MPO
#: variant in which many cameras and phones store their photos.
SAFE_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF")

#: Largest image accepted, in pixels (width x height). Pillow's own limit (about
#: 89 megapixels) is far more than any notebook here can use; 40 megapixels is a
#: large camera photo. Larger files are refused before they are decoded.
MAX_PIXELS = 40_000_000


class ImageLoadError(ValueError):
    """An image file could not be loaded; the message says why and what to do."""


def _open_bytes(source: str | os.PathLike | bytes | memoryview) -> tuple[bytes, str]:
    """Read the raw bytes of a file, URL, or in-memory upload, and a name for messages."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), "the uploaded image"
    text = str(source)
    if text.startswith(("http://", "https://")):
        import pooch

        from .assets import ASSETS

        known = {a.url: a.sha256 for a in ASSETS.values()}
        try:
            path = pooch.retrieve(text, known_hash=f"sha256:{known[text]}" if text in known else None,
                                  progressbar=False)
        except Exception as err:
            raise ImageLoadError(
                f"Could not download {text}: {type(err).__name__}: {err}. Check the address and "
                "your connection, or download the file yourself and pass its path."
            ) from err
        text = path
    path = Path(text).expanduser()
    if not path.exists():
        raise ImageLoadError(f"{path} does not exist. Check the path (the current folder is {Path.cwd()}).")
    if path.is_dir():
        raise ImageLoadError(f"{path} is a folder, not an image file.")
    data = path.read_bytes()
    return data, str(path)


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to an RGB float array in [0, 1], shape [H, W, 3]."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit grayscale (PNG/TIFF). Pillow's convert("RGB") would clip at 255.
        a = np.asarray(img, dtype=np.float64)
        scale = 65535.0 if mode.startswith("I;16") or a.max(initial=0) > 255 else 255.0
        a = np.clip(a / scale, 0.0, 1.0)
        return np.repeat(a[..., None], 3, axis=2).astype(np.float32)
    if mode == "F":
        a = np.asarray(img, dtype=np.float32)
        a = np.clip(a / 255.0 if a.max(initial=0) > 1 else a, 0, 1)
        return np.repeat(a[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in img.info):
        # Composite transparent images over white, as a viewer would show them.
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    # L, 1, P, CMYK, YCbCr, LAB, HSV, RGBA (now composited): Pillow converts these correctly.
    a = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return a


def load_image(
    source: str | os.PathLike | bytes | memoryview,
    max_side: int | None = None,
    max_pixels: int = MAX_PIXELS,
) -> torch.Tensor:
    """Load an image as an RGB float tensor in [0, 1].

    Applies the EXIF orientation (phone photos), converts grayscale, RGBA
    (over white), palette, CMYK and 16-bit images to 8-bit-accurate RGB, and
    optionally shrinks the image so that its longer side is ``max_side``.

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

    Returns:
        Tensor of shape ``[3, H, W]``, dtype float32, values in [0, 1].

    Raises:
        ImageLoadError: empty, missing, non-image, truncated, too large or
            unsupported-format input, with a message that says which.
    """
    data, name = _open_bytes(source)
    if len(data) == 0:
        raise ImageLoadError(f"{name} is empty (0 bytes). Was the download or upload interrupted?")
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit and raises above twice that; make both an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=SAFE_FORMATS)
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
    with img:
        w, h = img.size
        if w * h > max_pixels:
            raise ImageLoadError(
                f"{name} is {w}x{h} = {w * h / 1e6:.0f} megapixels, more than the limit of "
                f"{max_pixels / 1e6:.0f} megapixels (a guard against decompression bombs). "
                "Resize it first, or pass a larger max_pixels if you trust the file."
            )
        if w == 0 or h == 0:
            raise ImageLoadError(f"{name} has no pixels ({w}x{h}).")
        try:
            img.load()
            img = ImageOps.exif_transpose(img)
        except (OSError, SyntaxError, ValueError) as err:
            raise ImageLoadError(
                f"{name} is damaged or truncated and cannot be decoded ({err}). "
                "Download or copy it again."
            ) from err
        if max_side is not None:
            if max_side < 1:
                raise ValueError(f"max_side must be a positive number of pixels, got {max_side}")
            if max(img.size) > max_side:
                img = img.copy()
                img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        rgb = _to_rgb_array(img)
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).contiguous()


def _identify_any_format(data: bytes) -> str | None:
    """The format name of a file Pillow can identify but the course refuses (header only)."""
    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only; nothing is decoded
            return img.format
    except Exception:  # noqa: BLE001 - any failure here just means "not an image"
        return None


def save_image(
    image: torch.Tensor,
    path: str | os.PathLike,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> Path:
    """Save an image tensor atomically (a half-written file never replaces a good one).

    Args:
        image: ``[3, H, W]``, ``[1, 3, H, W]``, ``[1, H, W]`` or ``[H, W]``, values
            in ``value_range``; values outside are clipped.
        path: destination; the format follows the suffix (``.png``, ``.jpg``, ...).
        value_range: the pixel range of ``image``.

    Raises:
        ValueError: if the tensor has the wrong shape or contains NaN or inf.
    """
    t = image.detach().to("cpu", torch.float32)
    if t.dim() == 4 and t.shape[0] == 1:
        t = t[0]
    if t.dim() == 2:
        t = t.unsqueeze(0)
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ValueError(f"save_image expects [3, H, W] or [1, H, W], got shape {tuple(image.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError("the image contains NaN or infinite values; refusing to save a broken picture")
    lo, hi = value_range
    t = ((t - lo) / (hi - lo)).clamp(0, 1)
    arr = (t.mul(255).round().byte().permute(1, 2, 0).numpy())
    pil = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the image format from the suffix of {path}; use .png or .jpg")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pil.save(f, format=fmt)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
