"""MNIST through ``torchvision.datasets``, held in memory as tensors.

MNIST is small (70,000 images of 28x28 bytes, 55 MB), so the course loads it once
into a tensor and trains from that: much faster on a laptop than decoding a PIL
image per sample. ``torchvision.datasets.MNIST`` does the download (online); the
files in ``<data folder>/MNIST/raw/`` (downloaded, or an offline mirror) are read
by the course itself, through :mod:`course_utils.safe_io`, and checked first:

* each file is a regular file whose idx header has the right magic number and
  shape (28x28 images, labels 0..9) and whose size matches the header;
* images and labels have the same count;
* the content is verified: the official files (60,000 / 10,000 items) against the
  md5 of the files that torchvision's md5-checked downloads (``MNIST.resources``)
  decompress to, any other file against its ``.gz`` next to it (a gzip file ends
  with the CRC-32 and size of its content).

A damaged file raises :class:`DatasetUnavailableError` naming the file and what is
wrong with it, instead of training silently on changed pixels or failing deep in
torchvision.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset, random_split

from .assets import how_to_fix
from .safe_io import open_regular, read_regular
from .settings import Settings

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

#: Size and md5 of the official uncompressed files, i.e. of what torchvision's downloads
#: (checked against the md5 of the ``.gz`` files in ``torchvision.datasets.MNIST.resources``)
#: decompress to.
OFFICIAL_MD5 = {
    "train-images-idx3-ubyte": (47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": (60_008, "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": (7_840_016, "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": (10_008, "27ae3e4e09519cfbb04c329615203637"),
}

#: idx magic numbers (unsigned bytes, 3 or 1 dimensions) and the size of one item.
_IDX = {"images": (0x0803, 16, 28 * 28), "labels": (0x0801, 8, 1)}
_MAX_BYTES = 64 * 2**20  # the largest file, train-images, has 47 MB


class DatasetUnavailableError(RuntimeError):
    """A dataset is not in the data folder and could not be downloaded, or a file of it is damaged."""


def _damaged(path: Path, problem: str) -> DatasetUnavailableError:
    return DatasetUnavailableError(
        f"The MNIST file {path} is damaged: {problem}.\n"
        f"Delete it and run the cell again to download MNIST again, or copy an intact {path.name} "
        f"into {path.parent} (an offline copy of the course data)."
    )


def _read_idx(path: Path, kind: str) -> np.ndarray:
    """An idx file's items (``[N, 28, 28]`` images or ``[N]`` labels), after checking the file."""
    data = read_regular(path, error=DatasetUnavailableError, what="MNIST", max_bytes=_MAX_BYTES)
    magic, header, item = _IDX[kind]
    if len(data) < header:
        raise _damaged(path, f"it has {len(data)} bytes, less than an idx header ({header} bytes)")
    found, n = struct.unpack(">II", data[:8])
    if found != magic:
        raise _damaged(path, f"its header begins with 0x{found:08x} instead of 0x{magic:08x}, the idx "
                             f"magic number of MNIST {kind}")
    if kind == "images" and struct.unpack(">II", data[8:16]) != (28, 28):
        raise _damaged(path, f"its header says the images are {struct.unpack('>II', data[8:16])}, not 28x28")
    if len(data) != header + n * item:
        raise _damaged(path, f"its header says {n:,} {kind}, which take {header + n * item:,} bytes, "
                             f"but the file has {len(data):,} bytes (truncated or padded)")
    _verify_content(path, data)
    items = np.frombuffer(data, dtype=np.uint8, count=n * item, offset=header)
    if kind == "labels" and n and items.max() > 9:
        raise _damaged(path, f"it holds the label {items.max()}; MNIST labels are 0..9")
    return items.reshape((n, 28, 28) if kind == "images" else (n,)).copy()


def _verify_content(path: Path, data: bytes) -> None:
    """Compare ``data`` with the official md5, or else with the ``.gz`` file next to it."""
    size, md5 = OFFICIAL_MD5.get(path.name, (None, None))
    if len(data) == size:
        if hashlib.md5(data).hexdigest() != md5:
            raise _damaged(path, "it has the official file's size but not its md5 (bytes changed)")
        return
    gz = path.with_name(path.name + ".gz")
    if not gz.is_file():
        return  # nothing to compare with: the header checks are all there is
    with open_regular(gz, error=DatasetUnavailableError, what="gzip", max_bytes=_MAX_BYTES) as f:
        f.seek(0, 2)
        if f.tell() < 18:
            trailer = b""
        else:
            f.seek(-8, 2)
            trailer = f.read(8)
    if trailer and struct.unpack("<II", trailer) == (zlib.crc32(data), len(data) % 2**32):
        return
    try:
        original = gzip.decompress(read_regular(gz, error=DatasetUnavailableError, what="gzip",
                                                max_bytes=_MAX_BYTES))
    except (OSError, EOFError, zlib.error) as err:
        warnings.warn(f"{gz} is damaged ({err}), so {path.name} could not be checked against it. "
                      f"Delete {gz} (it is only used to check {path.name}).", stacklevel=4)
        return
    if original != data:
        raise _damaged(path, f"its content differs from {gz.name} next to it, which is intact "
                             f"(extract it again with: gunzip -kf {gz})")


def _download_mnist(settings: Settings, train: bool, missing: list[str]) -> None:
    import torchvision  # imported here: its import is slow and not every module needs it

    mnist = torchvision.datasets.MNIST
    try:
        mnist(root=settings.data_dir, train=train, download=True)
    except Exception as err:  # noqa: BLE001 - network and archive errors come in many types
        urls = "\n".join(f"    {mnist.mirrors[0]}{name}" for name, _ in mnist.resources)
        others = ", ".join(mnist.mirrors[1:])
        files = ", ".join(f"MNIST/raw/{f}" for f in MNIST_FILES)
        raise DatasetUnavailableError(
            f"MNIST is not in {settings.data_dir / 'MNIST' / 'raw'} and could not be downloaded.\n"
            f"  Missing: {', '.join(missing)}\n"
            f"  Error: {type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}\n"
            f"  Download addresses (gzip files, extracted into MNIST/raw/):\n{urls}\n"
            + (f"    (the same names also at {others})\n" if others else "")
            + how_to_fix(files)
        ) from err


def mnist_tensors(
    settings: Settings,
    train: bool = True,
    value_range: tuple[float, float] = (0.0, 1.0),
    limit: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images and labels as tensors.

    Args:
        settings: gives the data folder.
        train: the training split (60,000 images) or the test split (10,000).
        value_range: pixel range of the returned images: ``(0, 1)`` for
            classifiers and VAEs, ``(-1, 1)`` for GANs with a tanh output.
        limit: keep only the first ``limit`` images (smoke mode).

    Returns:
        ``images`` float32 of shape ``[N, 1, 28, 28]`` in ``value_range``, and
        ``labels`` int64 of shape ``[N]``.

    Raises:
        DatasetUnavailableError: the files are missing and cannot be downloaded
            (the message names the download addresses), or a file is damaged
            (the message names it and says what is wrong).
    """
    raw = Path(settings.data_dir) / "MNIST" / "raw"
    split = "train" if train else "t10k"
    image_file, label_file = raw / f"{split}-images-idx3-ubyte", raw / f"{split}-labels-idx1-ubyte"
    missing = [p.name for p in (image_file, label_file) if not (p.exists() or p.is_symlink())]
    if missing:
        _download_mnist(settings, train, missing)
    images, labels = _read_idx(image_file, "images"), _read_idx(label_file, "labels")
    if len(images) != len(labels):
        raise _damaged(label_file, f"it has {len(labels):,} labels for the {len(images):,} images of "
                                   f"{image_file.name}")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    lo, hi = value_range
    x = torch.from_numpy(images).unsqueeze(1).float().div_(255.0).mul_(hi - lo).add_(lo)
    return x, torch.from_numpy(labels).long()


def mnist_dataset(
    settings: Settings,
    train: bool = True,
    value_range: tuple[float, float] = (0.0, 1.0),
    limit: int | None = None,
) -> TensorDataset:
    """:func:`mnist_tensors` wrapped as a ``TensorDataset`` of ``(image, label)`` pairs."""
    return TensorDataset(*mnist_tensors(settings, train, value_range, limit))


def train_val_split(dataset: Dataset, val_size: int, seed: int = 0) -> tuple[Subset, Subset]:
    """Split off a validation set of ``val_size`` examples, reproducibly (own generator)."""
    n = len(dataset)  # type: ignore[arg-type]
    if not 0 < val_size < n:
        raise ValueError(f"val_size must be between 1 and {n - 1} for a dataset of {n}, got {val_size}")
    gen = torch.Generator().manual_seed(seed)
    train, val = random_split(dataset, [n - val_size, val_size], generator=gen)
    return train, val


class TransformedDataset(Dataset):
    """Apply a per-sample transform to the images of an ``(image, label)`` dataset.

    Used for data augmentation on in-memory tensors, e.g. with
    ``torchvision.transforms.v2.RandomAffine``.
    """

    def __init__(self, dataset: Dataset, transform):
        self.dataset = dataset
        self.transform = transform

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, i):
        x, y = self.dataset[i]
        return self.transform(x), y
