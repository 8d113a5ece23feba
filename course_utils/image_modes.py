"""Pillow's image modes to RGB pixels in [0, 1], for :func:`course_utils.images.load_image`.

Grey, palette, CMYK, 16-bit and floating-point images, and every kind of transparency
(an alpha channel, a palette's transparent entry, a PNG colour key), become one float32
array ``[H, W, 3]`` in [0, 1]: transparent pixels are composited over white, as a viewer
shows them, and 16-bit values keep their precision instead of being clipped at 255.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def to_rgb_array(img: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to an RGB float array in [0, 1], shape [H, W, 3].

    Transparent pixels, whether from an alpha channel, a palette's transparency or a
    PNG colour key (``tRNS`` on a grey or RGB image), are composited over white, as a
    viewer shows them.
    """
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit grayscale (PNG/TIFF). Pillow's convert("RGB") would clip at 255.
        a = np.asarray(img, dtype=np.float64)
        scale = 65535.0 if mode.startswith("I;16") or a.max(initial=0) > 255 else 255.0
        gray = np.clip(a / scale, 0.0, 1.0)
        key = img.info.get("transparency")
        if isinstance(key, int):  # colour key: pixels of exactly this value are transparent
            gray[a == key] = 1.0
        return np.repeat(gray[..., None], 3, axis=2).astype(np.float32)
    if mode == "F":
        a = np.asarray(img, dtype=np.float32)
        a = np.clip(a / 255.0 if a.max(initial=0) > 1 else a, 0, 1)
        return np.repeat(a[..., None], 3, axis=2)
    if img.has_transparency_data:
        # Alpha channel, palette transparency or colour key: composite over white.
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    # L, 1, P, CMYK, YCbCr, LAB, HSV, RGBA (now composited): Pillow converts these correctly.
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
