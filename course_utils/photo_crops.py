"""Random square crops of a photo set at random scales: the training input of notebooks 07 and 08.

:class:`RandomCrops` wraps a :class:`~course_utils.photos.PhotoSet` as a torch ``Dataset``.
Photos are read through the course's safe loader; a damaged one is skipped with a warning.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from .images import ImageLoadError
from .photos import PhotoSet, PhotosUnavailableError


class RandomCrops(Dataset):
    """Random square crops of a photo set, at random scales: ``[3, crop, crop]`` in [0, 1].

    Item ``i`` takes photo ``i % len(photos)``, a random square of side ``s`` drawn
    uniformly from ``[crop, min(H, W)]`` of the photo shrunk to ``short_side`` pixels on
    its shorter side (so the crops show details and wider views), at a random position,
    resized to ``crop``, and flipped left-right with probability 1/2. The randomness comes
    from torch's global generator, so a seeded (or resumed) training run sees the same crops.
    A photo that cannot be read (damaged, too large) is skipped with a warning naming it; if
    none can be read, :class:`PhotosUnavailableError` says why.

    Args:
        photos: a :class:`PhotoSet`.
        crop: the side of the crops in pixels.
        length: the number of items (one epoch of a DataLoader).
        short_side: the photos' shorter side before cropping (default ``2 * crop``).
        cache: keep the shrunk photos in memory (uint8) when the set has at most this many photos;
            larger sets are read from disk for every crop.
    """

    def __init__(self, photos: PhotoSet, crop: int, length: int, short_side: int | None = None,
                 cache: int = 256):
        if crop < 8:
            raise ValueError(f"crop must be at least 8 pixels, got {crop}")
        if len(photos) == 0:
            raise PhotosUnavailableError(f"the photo set {photos.name} is empty")
        self.photos, self.crop, self.length = photos, crop, length
        self.short_side = short_side or 2 * crop
        if self.short_side < crop:
            raise ValueError(f"short_side ({self.short_side}) must be at least the crop ({crop})")
        self._cache: dict[int, torch.Tensor] | None = {} if len(photos) <= cache else None
        self._bad: dict[int, str] = {}  # photos that could not be read: index -> why

    def __len__(self) -> int:
        return self.length

    def _readable(self, k: int) -> torch.Tensor:
        """Photo k shrunk, or the next readable one: a damaged file in a collection is skipped, with a
        warning that names it (once), instead of stopping a long training run."""
        n = len(self.photos)
        for j in (k + d for d in range(n)):
            if j % n in self._bad:
                continue
            try:
                return self.shrunk(j % n)
            except ImageLoadError as err:
                self._bad[j % n] = str(err)
                warnings.warn(f"skipping a photo that cannot be read: {err}", stacklevel=3)
        raise PhotosUnavailableError(f"none of the {n} photos of {self.photos.name} can be read; the first "
                                     f"error: {next(iter(self._bad.values()))}")

    def shrunk(self, k: int) -> torch.Tensor:
        """Photo ``k`` with its shorter side at ``short_side`` pixels, uint8 ``[3, H, W]``."""
        if self._cache is not None and k in self._cache:
            return self._cache[k]
        # Decoding at 3x the wanted size is quick (Pillow shrinks JPEGs while decoding) and leaves
        # enough pixels for any photo up to 3:1; the exact size comes next.
        x = self.photos[k].load(max_side=3 * self.short_side)
        scale = self.short_side / min(x.shape[1:])
        size = [max(self.short_side, round(s * scale)) for s in x.shape[1:]]
        x = F.interpolate(x[None], size=size, mode="bilinear", antialias=scale < 1, align_corners=False)[0]
        x = x.clamp(0, 1).mul(255).round().to(torch.uint8)
        if self._cache is not None:
            self._cache[k] = x
        return x

    def __getitem__(self, i: int) -> torch.Tensor:
        x = self._readable(i % len(self.photos))
        h, w = x.shape[1:]
        side = int(torch.randint(self.crop, min(h, w) + 1, ()))
        top, left = int(torch.randint(0, h - side + 1, ())), int(torch.randint(0, w - side + 1, ()))
        patch = x[:, top:top + side, left:left + side].float()[None] / 255
        if side != self.crop:
            patch = F.interpolate(patch, size=(self.crop, self.crop), mode="bilinear", antialias=True,
                                  align_corners=False)
        if torch.rand(()) < 0.5:
            patch = patch.flip(-1)
        return patch[0].clamp(0, 1)
