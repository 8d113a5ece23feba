"""The online alternative for Inception-v3 features: torch-fidelity's extractor and its weights.

The course's default is the offline TorchScript network of
:mod:`~course_utils.metrics.inception`. With internet access and the optional package
``torch-fidelity`` (``pip install torch-fidelity``), ``load_inception(source="torch-fidelity")``
uses torch-fidelity's ``FeatureExtractorInceptionV3`` instead: the same 2015 network
(torchmetrics' FID uses it too), with its weights downloaded once from GitHub into
torch's hub cache. It resizes and normalises inside; :class:`TorchFidelityInception` only
rounds to bytes and repeats grey images to three channels.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path

import torch
from torch import nn

from .inception import InceptionUnavailableError

INCEPTION_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                 "weights-inception-2015-12-05-6726825d.pth")
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_SHA256_PREFIX = "6726825d"  # torch.hub's convention: the file name ends in its sha256 prefix


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
            f"({type(err).__name__}: {str(err).strip()[:200]}). Offline? Use source='offline' (the course's "
            f"default), copy that file to {path} on a machine with internet access, or pass "
            "weights_path=...") from err
    h = hashlib.sha256(path.read_bytes()).hexdigest()
    if not h.startswith(INCEPTION_SHA256_PREFIX):
        path.unlink(missing_ok=True)
        raise InceptionUnavailableError(
            f"the downloaded Inception-v3 weights have sha256 {h[:16]}..., not "
            f"{INCEPTION_SHA256_PREFIX}...: the file was corrupted or replaced; it has been deleted.")
    return path


class TorchFidelityInception(nn.Module):
    """torch-fidelity's Inception-v3 pool features ``[B, 2048]`` of images ``[B, 1 or 3, H, W]`` in [0, 1].

    Grey images are repeated to three channels; pixels are rounded to bytes as torch-fidelity
    expects, and it resizes them to 299 x 299 itself.
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


def load_torch_fidelity_inception(
    weights_path: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    allow_download: bool = True,
    timeout_s: float = 10.0,
    device: torch.device | str = "cpu",
) -> TorchFidelityInception:
    """torch-fidelity's FID Inception-v3 (:class:`TorchFidelityInception`) or InceptionUnavailableError.

    Args:
        weights_path: a local copy of ``weights-inception-2015-12-05-6726825d.pth``;
            by default it is looked for in ``cache_dir`` and downloaded there if absent.
        cache_dir: default :func:`default_cache_dir` (shared with torch-fidelity).
        allow_download: if False, never touch the network.
        timeout_s: give up a download that gets no answer for this long.
        device: where to put the network.
    """
    try:
        extractor_class = _import_extractor_class()
    except ImportError as err:
        raise InceptionUnavailableError(
            "the optional package torch-fidelity is not installed (pip install torch-fidelity); "
            f"{type(err).__name__}: {err}. The course's offline network needs no package: "
            "load_inception(source='offline').") from err
    path = _weights_file(weights_path, cache_dir or default_cache_dir(), allow_download, timeout_s)
    try:
        torch.load(path, map_location="cpu", weights_only=True)  # refuses anything but plain tensors
    except Exception as err:  # unpickling errors have several types
        raise InceptionUnavailableError(f"{path} is not a readable weights file: "
                                        f"{type(err).__name__}: {err}") from err
    extractor = extractor_class("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path))
    return TorchFidelityInception(extractor).to(device).eval()
