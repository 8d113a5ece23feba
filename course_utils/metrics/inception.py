r"""Optional: FID and KID in the feature space of Inception-v3, the numbers papers report.

Published FIDs (Heusel et al. 2017) and KIDs (Bińkowski et al. 2018) use the 2048-d
pool features of the 2015 TensorFlow Inception-v3, whose weights torch-fidelity ships
converted to PyTorch (the same network torchmetrics uses; torchvision's
``inception_v3`` weights are a different network and give different numbers). The
course computes those features with torch-fidelity's ``FeatureExtractorInceptionV3``,
then uses its own :func:`~course_utils.metrics.frechet.fid` and
:func:`~course_utils.metrics.mmd.kid`, which agree with torchmetrics.

This needs the optional package ``torch-fidelity`` and its weights (about 90 MB,
downloaded once into torch's hub cache). Offline, or without the package, :func:`inception_metrics`
returns a result that says *why* it is not available and holds no numbers: it never
reports a score it did not compute. On a CPU Inception-v3 is slow (every image is
resized to 299x299; about 1 s per image was measured on two busy cores), so use a GPU,
or a few thousand images at most.

Even then, MNIST digits are far from ImageNet photos: Inception FIDs of MNIST models
are only comparable with other Inception FIDs of MNIST models at the same sample size.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .features import extract_features
from .frechet import fid
from .mmd import kid
from .results import MeanStd

INCEPTION_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                 "weights-inception-2015-12-05-6726825d.pth")
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_SHA256_PREFIX = "6726825d"  # torch.hub's convention: the file name ends in its sha256 prefix


class InceptionUnavailableError(RuntimeError):
    """Inception-v3 features cannot be computed here (package or weights missing); the message says why."""


def default_cache_dir() -> Path:
    """Where torch.hub (and torch-fidelity) keep downloaded weights: ``<torch hub dir>/checkpoints``."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def _import_extractor_class():
    """torch-fidelity's ``FeatureExtractorInceptionV3`` (a function so that tests can replace it)."""
    module = importlib.import_module("torch_fidelity.feature_extractor_inceptionv3")
    return module.FeatureExtractorInceptionV3


def _download(url: str, dest: Path, timeout_s: float) -> None:
    """Download ``url`` to ``dest`` atomically, giving up after ``timeout_s`` seconds without an answer."""
    import pooch

    pooch.retrieve(url, known_hash=None, fname=dest.name, path=dest.parent,
                   downloader=pooch.HTTPDownloader(timeout=timeout_s, progressbar=True))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _weights_file(weights_path, cache_dir, allow_download: bool, timeout_s: float) -> Path:
    if weights_path is not None:
        path = Path(weights_path)
        if not path.is_file():
            raise InceptionUnavailableError(f"the Inception-v3 weights file {path} does not exist")
        return path
    path = Path(cache_dir) / INCEPTION_FILE
    if path.is_file():
        return path
    if not allow_download:
        raise InceptionUnavailableError(
            f"the Inception-v3 weights are not in {path.parent} and downloading is switched off "
            f"(allow_download=False). Download {INCEPTION_URL} there, or pass weights_path=...")
    try:
        _download(INCEPTION_URL, path, timeout_s)
    except Exception as err:  # network errors come in many types (requests, urllib, OSError)
        raise InceptionUnavailableError(
            f"could not download the Inception-v3 weights from {INCEPTION_URL} "
            f"({type(err).__name__}: {str(err).strip()[:200]}). Offline? Copy that file to {path} "
            "on a machine with internet access, or pass weights_path=...") from err
    digest = _sha256(path)
    if not digest.startswith(INCEPTION_SHA256_PREFIX):
        path.unlink(missing_ok=True)
        raise InceptionUnavailableError(
            f"the downloaded Inception-v3 weights have sha256 {digest[:16]}..., not "
            f"{INCEPTION_SHA256_PREFIX}...: the file was corrupted or replaced; it has been deleted.")
    return path


class InceptionFeatures(nn.Module):
    """Inception-v3 pool features ``[B, 2048]`` of images ``[B, 1 or 3, H, W]`` in [0, 1].

    Grey images are repeated to three channels; pixels are rounded to bytes as the
    reference implementations expect, and the network resizes them to 299x299 itself.
    """

    num_features = 2048

    def __init__(self, extractor: nn.Module):
        super().__init__()
        self.extractor = extractor

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        if x01.dim() != 4 or x01.shape[1] not in (1, 3):
            raise ValueError(f"Inception-v3 needs images [B, 1 or 3, H, W], got {tuple(x01.shape)}")
        x = (x01 * 255).round().clamp(0, 255).to(torch.uint8)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return self.extractor(x.contiguous())[0].reshape(len(x), -1)


def load_inception(
    weights_path: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    allow_download: bool = True,
    timeout_s: float = 10.0,
    device: torch.device | str = "cpu",
) -> InceptionFeatures:
    """The FID Inception-v3 as an :class:`InceptionFeatures` module, or :class:`InceptionUnavailableError`.

    Args:
        weights_path: a local copy of ``weights-inception-2015-12-05-6726825d.pth``;
            by default it is looked for in ``cache_dir`` and downloaded there if absent.
        cache_dir: default :func:`default_cache_dir` (shared with torch-fidelity).
        allow_download: if False, never touch the network.
        timeout_s: give up a download that gets no answer for this long.
        device: where to put the network.

    Raises:
        InceptionUnavailableError: torch-fidelity is not installed, or the weights are
            neither there nor downloadable, or the download is not the expected file.
    """
    try:
        extractor_class = _import_extractor_class()
    except ImportError as err:
        raise InceptionUnavailableError(
            "the optional package torch-fidelity is not installed (pip install torch-fidelity); "
            f"{type(err).__name__}: {err}") from err
    path = _weights_file(weights_path, cache_dir or default_cache_dir(), allow_download, timeout_s)
    try:
        torch.load(path, map_location="cpu", weights_only=True)  # refuses anything but plain tensors
    except Exception as err:  # unpickling errors have several types
        raise InceptionUnavailableError(f"{path} is not a readable weights file: "
                                        f"{type(err).__name__}: {err}") from err
    extractor = extractor_class("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path))
    return InceptionFeatures(extractor).to(device).eval()


@dataclass(frozen=True)
class InceptionMetrics:
    """Inception-v3 FID and KID, or why they were not computed (then ``fid`` and ``kid`` are None)."""

    available: bool
    reason: str = ""
    fid: float | None = None
    kid: MeanStd | None = None
    n_real: int = 0
    n_fake: int = 0

    def __str__(self) -> str:
        if not self.available:
            return f"Inception-v3 FID/KID not computed (skipped): {self.reason}"
        return (f"Inception-v3 FID = {self.fid:.2f}, KID = {self.kid} "
                f"({self.n_real} real vs {self.n_fake} generated images)")


def inception_metrics(
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    value_range: tuple[float, float] = (0.0, 1.0),
    weights_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    allow_download: bool = True,
    timeout_s: float = 10.0,
    device: torch.device | str = "cpu",
    batch_size: int = 50,
    kid_subsets: int = 100,
    kid_subset_size: int | None = None,
    seed: int = 0,
) -> InceptionMetrics:
    """Inception-v3 FID and KID of ``fake`` against ``real`` images, if this machine can compute them.

    Args:
        real, fake: images ``[N, 1 or 3, H, W]`` in ``value_range``.
        weights_path, cache_dir, allow_download, timeout_s, device: see :func:`load_inception`.
        batch_size: images per forward pass.
        kid_subsets, kid_subset_size, seed: see :func:`~course_utils.metrics.mmd.kid`.

    Returns:
        :class:`InceptionMetrics`; ``available=False`` with the reason when torch-fidelity or
        the weights are missing (input errors still raise).
    """
    for name, x in (("real", real), ("fake", fake)):
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"{name} must be images [N, 1 or 3, H, W], got {tuple(x.shape)}")
    try:
        net = load_inception(weights_path, cache_dir=cache_dir, allow_download=allow_download,
                             timeout_s=timeout_s, device=device)
    except InceptionUnavailableError as err:
        return InceptionMetrics(available=False, reason=str(err))
    real_f = extract_features(net, real, value_range=value_range, batch_size=batch_size)
    fake_f = extract_features(net, fake, value_range=value_range, batch_size=batch_size)
    return InceptionMetrics(
        available=True, fid=fid(real_f, fake_f),
        kid=kid(real_f, fake_f, subsets=kid_subsets, subset_size=kid_subset_size, seed=seed),
        n_real=len(real), n_fake=len(fake))
