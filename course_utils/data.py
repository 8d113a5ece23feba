"""MNIST through ``torchvision.datasets``, held in memory as tensors.

MNIST is small (70,000 images of 28x28 bytes, 55 MB), so the course loads it once
into a tensor and trains from that: much faster on a laptop than decoding a PIL
image per sample. ``torchvision.datasets.MNIST`` does the download (online) or
finds the files in ``<data folder>/MNIST/raw/`` (offline mirror).
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset, Subset, TensorDataset, random_split

from .assets import how_to_fix
from .settings import Settings

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DatasetUnavailableError(RuntimeError):
    """A dataset is not in the data folder and could not be downloaded."""


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
    """
    import torchvision  # imported here: its import is slow and not every module needs it

    try:
        ds = torchvision.datasets.MNIST(root=settings.data_dir, train=train, download=True)
    except (RuntimeError, OSError) as err:
        files = ", ".join(f"MNIST/raw/{f}" for f in MNIST_FILES)
        raise DatasetUnavailableError(
            f"MNIST is not in {settings.data_dir / 'MNIST' / 'raw'} and could not be downloaded.\n"
            f"  Error: {type(err).__name__}: {str(err).strip().splitlines()[0]}\n"
            + how_to_fix(files)
        ) from err
    images, labels = ds.data, ds.targets
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    lo, hi = value_range
    x = images.unsqueeze(1).float().div_(255.0).mul_(hi - lo).add_(lo)
    return x, labels.long()


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
