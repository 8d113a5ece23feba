"""What style transfer checks before it starts: images, settings, sizes and memory.

Infrastructure for notebook 02's ``style_transfer`` (``course_utils.style``, generated from
the notebook): every check raises an error that says what was wrong and what to change,
*before* anything large is allocated.

* :func:`as_rgb`, :func:`check_images`: tensors ``[3, H, W]`` in [0, 1] (a grayscale
  ``[1, H, W]`` is repeated), no NaN, style blend weights that sum to 1;
* :func:`resize`: longer side to a given size, enlarged (with a warning) when VGG's
  deepest layer in use needs more pixels;
* :func:`check_settings`: the loss weights, layers, optimiser, steps and options of a
  ``StyleTransferConfig``, and their normalised form;
* :func:`estimate_memory`, :func:`available_memory`, :func:`check_memory`: refuse a size
  whose forward and backward pass through VGG-19 would not fit in memory.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .vgg_weights import CONVS, LAYERS, pools_before

PRESERVE_COLOR = (None, "luminance", "histogram")
LBFGS_HISTORY = 20  # the history_size of torch.optim.LBFGS used by style_transfer
WORKSPACE_BYTES = 100 * 2**20  # oneDNN / cuDNN workspaces and the allocator's slack (measured: 70-100 MB)


class NotEnoughMemoryError(MemoryError):
    """The requested image size would not fit in the device's memory (raised before allocating)."""


# ----------------------------------------------------------------------------- images


def as_rgb(image: torch.Tensor, what: str = "image") -> torch.Tensor:
    """Check an image and return it as ``[3, H, W]`` float (a grayscale ``[1, H, W]`` is repeated)."""
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"the {what} must be a tensor [3, H, W] in [0, 1]; load files with cu.load_image")
    x = image.detach()
    if x.dim() == 4 and x.shape[0] == 1:
        x = x[0]
    if x.dim() == 2:
        x = x.unsqueeze(0)
    if x.dim() != 3 or x.shape[0] not in (1, 3):
        raise ValueError(f"the {what} must have shape [3, H, W] (or [1, H, W] for grayscale), "
                         f"got {tuple(image.shape)}")
    x = x.float()
    lo, hi = (float(v) for v in torch.aminmax(x))  # NaN if any value is NaN; no copy of a large image
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"the {what} contains NaN or infinite values")
    if lo < -1e-3 or hi > 1 + 1e-3:
        raise ValueError(f"the {what} must have values in [0, 1], got [{lo:.3g}, {hi:.3g}] "
                         "(images from cu.load_image are; divide 0..255 images by 255)")
    if lo < 0 or hi > 1:
        x = x.clamp(0, 1)
    return x.expand(3, -1, -1) if x.shape[0] == 1 else x


def check_images(content: torch.Tensor | None, styles: torch.Tensor | Sequence[torch.Tensor] | None,
                 config: Any) -> tuple[torch.Tensor | None, list[torch.Tensor], list[float]]:
    """``(content [3, H, W] or None, [style [3, H, W], ...], blend weights summing to 1)``, all checked.

    ``config`` is a ``StyleTransferConfig`` (its ``content_weight``, ``style_weight`` and ``style_blend``).
    """
    if content is None:
        if config.content_weight > 0:
            raise ValueError("content is None but content_weight > 0; give a photo or set content_weight=0")
    else:
        content = as_rgb(content, "content image")
    if styles is None:
        if config.style_weight > 0:
            raise ValueError("styles is None but style_weight > 0; give a painting or set style_weight=0")
        return content, [], []
    styles = [styles] if isinstance(styles, torch.Tensor) else list(styles)
    blend = [1.0 / len(styles)] * len(styles) if config.style_blend is None else [float(b) for b in
                                                                                  config.style_blend]
    if len(blend) != len(styles):
        raise ValueError(f"got {len(blend)} blend weights for {len(styles)} style images")
    if any(b < 0 for b in blend) or sum(blend) <= 0:
        raise ValueError(f"blend weights must be >= 0 and not all 0, got {blend}")
    styles = [as_rgb(s, f"style image {i}") for i, s in enumerate(styles)]
    if content is None and not styles:
        raise ValueError("give a content image, a style image, or both")
    return content, styles, [b / sum(blend) for b in blend]


def resize(image: torch.Tensor, size: int | None, min_side: int = 1, what: str = "image") -> torch.Tensor:
    """Resize ``[3, H, W]`` so its longer side is ``size`` (antialiased), keeping the aspect ratio.

    If the shorter side would then be below ``min_side`` (what the deepest VGG
    layer needs), the image is enlarged further and a warning says so.
    """
    h, w = image.shape[-2:]
    scale = 1.0 if size is None else size / max(h, w)
    if min(h, w) * scale < min_side:
        new_scale = min_side / min(h, w)
        warnings.warn(f"The {what} ({w}x{h} pixels{'' if size is None else f', asked for {size} px'}) is too "
                      f"small for VGG's deepest layer used here, which needs at least {min_side} pixels on "
                      f"each side; it was enlarged to {round(w * new_scale)}x{round(h * new_scale)}.",
                      stacklevel=3)
        scale = new_scale
    new = (max(min_side, round(h * scale)), max(min_side, round(w * scale)))
    if new == (h, w):
        return image
    return F.interpolate(image[None], size=new, mode="bicubic", antialias=scale < 1,
                         align_corners=False)[0].clamp(0, 1)


# ----------------------------------------------------------------------------- settings


def layer_weights(layers: Mapping[str, float] | Sequence[str], what: str) -> dict[str, float]:
    """``{layer: weight}`` from a mapping, or from a list of names (equal weights summing to 1)."""
    weights = dict(layers) if isinstance(layers, Mapping) else {name: 1.0 / len(layers) for name in layers}
    unknown = [n for n in weights if n not in LAYERS]
    if unknown:
        raise ValueError(f"unknown {what} layer(s) {unknown}; VGG-19 layers are {', '.join(LAYERS)}")
    return weights


def check_settings(config: Any) -> dict[str, Any]:
    """Check a ``StyleTransferConfig``; return the fields it normalises.

    Returns:
        ``content_weight``, ``style_weight``, ``tv_weight`` as floats; ``content_layers`` and
        ``style_layers`` as ``{layer: weight}`` (empty when their loss weight is 0); ``steps``
        as a tuple with one number per scale; ``lr`` (default 1 for L-BFGS, 0.02 for Adam).

    Raises:
        ValueError: a setting is out of range; the message says which and what is allowed.
    """
    alpha, beta, gamma = float(config.content_weight), float(config.style_weight), float(config.tv_weight)
    if min(alpha, beta, gamma) < 0 or not all(map(math.isfinite, (alpha, beta, gamma))):
        raise ValueError(f"loss weights must be finite and >= 0, got alpha={alpha}, beta={beta}, tv={gamma}")
    if alpha == beta == gamma == 0:
        raise ValueError("content_weight, style_weight and tv_weight are all 0: there is nothing to optimise")
    if config.optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {config.optimizer!r}")
    if config.preserve_color not in PRESERVE_COLOR:
        raise ValueError(f"preserve_color must be None, 'luminance' or 'histogram', "
                         f"got {config.preserve_color!r}")
    if not isinstance(config.init, torch.Tensor) and config.init not in ("content", "noise"):
        raise ValueError(f"init must be 'content', 'noise' or an image tensor, got {config.init!r}")
    if config.num_scales < 1:
        raise ValueError(f"num_scales must be at least 1, got {config.num_scales}")
    steps = config.steps
    steps = (int(steps),) * config.num_scales if isinstance(steps, int) else tuple(int(s) for s in steps)
    if len(steps) != config.num_scales or min(steps) < 1:
        raise ValueError(f"steps must be a positive number or one per scale ({config.num_scales}), "
                         f"got {config.steps!r}")
    lr = (1.0 if config.optimizer == "lbfgs" else 0.02) if config.lr is None else float(config.lr)
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if config.size is not None and config.size < 1:
        raise ValueError(f"size must be a positive number of pixels, got {config.size}")
    if not config.style_scale > 0:
        raise ValueError(f"style_scale must be > 0, got {config.style_scale}")
    return {"content_weight": alpha, "style_weight": beta, "tv_weight": gamma,
            "content_layers": layer_weights(config.content_layers, "content") if alpha > 0 else {},
            "style_layers": layer_weights(config.style_layers, "style") if beta > 0 else {},
            "steps": steps, "lr": lr}


# ----------------------------------------------------------------------------- memory


def _channels(layer: str) -> int:
    index = LAYERS.index(layer)
    conv = next(n for n in reversed(LAYERS[: index + 1]) if n.startswith("conv"))
    return CONVS[conv][1]


def estimate_memory(hw: tuple[int, int], deepest_layer: str, optimizer: str = "lbfgs",
                    bytes_per_value: int = 4) -> int:
    """Bytes that style transfer at ``hw`` needs: VGG-19 forward and backward up to ``deepest_layer``.

    Autograd keeps every ReLU and pooling output for the backward pass (a convolution's
    output is freed once its ReLU has run); at any time one more activation and one
    gradient of the largest layer are alive; then the images (the pixels, their gradient,
    the photo, the start) and L-BFGS's history of 2 x 20 image-sized vectors (Adam: two
    moments), plus about 100 MB of workspace. It grows with the number of pixels H * W:
    about 2.3 kB per pixel up to ``relu5_1`` (measured: 2.1 kB on a CPU, 2026). The
    paintings' Gram matrices are small.
    """
    h, w = hw
    values = 3 * h * w * (4 + (2 * LBFGS_HISTORY + 2 if optimizer == "lbfgs" else 2))
    largest = 0
    for name in LAYERS[: LAYERS.index(deepest_layer) + 1]:
        shrink = 2 ** (pools_before(name) + name.startswith("pool"))
        n = _channels(name) * (h // shrink) * (w // shrink)
        largest = max(largest, n)
        if not name.startswith("conv") or name == deepest_layer:
            values += n
    return (values + 2 * largest) * bytes_per_value + WORKSPACE_BYTES


def available_memory(device: torch.device | str) -> int | None:
    """Free memory in bytes on ``device`` (RAM for the CPU), or None where it cannot be known."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type == "mps":
        try:
            return torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory()
        except (AttributeError, RuntimeError):
            return None
    if device.type != "cpu":
        return None
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(hw: tuple[int, int], deepest_layer: str, optimizer: str, device: torch.device | str) -> None:
    """Raise :class:`NotEnoughMemoryError` if :func:`estimate_memory` exceeds :func:`available_memory`.

    The message gives the estimate, what is available and a ``size`` that fits.
    """
    need, have = estimate_memory(hw, deepest_layer, optimizer), available_memory(device)
    if have is None or need <= have:
        return
    h, w = hw
    fits = max(32, int(max(h, w) * math.sqrt(0.8 * have / need)) // 32 * 32)  # memory grows with H * W
    where = "RAM" if torch.device(device).type == "cpu" else f"{torch.device(device).type} memory"
    raise NotEnoughMemoryError(
        f"Style transfer at {w}x{h} pixels would need about {need / 1e9:.1f} GB ({where}, estimated for "
        f"VGG-19 up to {deepest_layer} with {optimizer}), but only {have / 1e9:.1f} GB are available. "
        f"Pass a smaller size, e.g. size={fits} (the longer side of the result in pixels).")
