"""Fuzzing the checkpoint loader: truncated, bit-flipped, header-edited and spliced checkpoints.

Every mutated file must give the *original* checkpoint back (a mutation of bytes that are
not read, e.g. a zip timestamp) or the course's ``CheckpointError``: never another
exception, never a hang, never a changed weight (that would be a corrupt checkpoint
loaded silently; the checksum is what catches those).
"""

from __future__ import annotations

import io
import os
import time
import zipfile

import numpy as np
import torch
from _fuzz import Tally, mutations
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import course_utils as cu
from course_utils import checkpoints

SEED = 20261203


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _zip_headers(data: bytes) -> list[tuple[int, int]]:
    """The byte ranges of a zip archive that are not stored file data: local headers, the
    central directory, and the pickle that describes the checkpoint (``data.pkl``)."""
    regions = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            start = info.header_offset
            name_len, extra_len = int.from_bytes(data[start + 26:start + 28], "little"), \
                int.from_bytes(data[start + 28:start + 30], "little")
            body = start + 30 + name_len + extra_len
            regions.append((start, body + (info.compress_size if info.filename.endswith("data.pkl") else 0)))
        regions.append((z.start_dir, len(data)))
    return regions


def _checkpoints(tmp_path) -> list[tuple[str, bytes]]:
    """A model checkpoint and a training checkpoint (models, optimiser, RNG states, history)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    cu.save_model(model, tmp_path / "model.pt", config={"width": 4})
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(torch.randn(8, 1, 8, 8), torch.randint(0, 3, (8,))), batch_size=4)

    def step(batch):
        x, y = batch
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    cu.train(step, loader, epochs=1, modules={"model": model}, optimizers={"model": opt},
             checkpoint=tmp_path / "run.pt", config={"width": 4}, progress_bar=False)
    return [(name, (tmp_path / name).read_bytes()) for name in ("model.pt", "run.pt")]


PER_FILE = {"truncations": 60, "flips": 150, "header_edits": 150, "splices": 40}


def test_fuzz_checkpoints_every_input_loads_unchanged_or_gives_the_course_error(tmp_path):
    rng = np.random.default_rng(SEED)
    tally = Tally()
    t0 = time.perf_counter()
    target = tmp_path / "fuzz.pt"
    for name, data in _checkpoints(tmp_path):
        original = checkpoints.load_checkpoint(tmp_path / name)
        for label, kind, mutated in mutations(data, _zip_headers(data), rng, **PER_FILE):
            target.write_bytes(mutated)

            def judge(loaded, original=original):
                return "correct" if _same(loaded, original) else "loaded a changed checkpoint"

            tally.run(f"{name}", f"{label} ({kind})", lambda: checkpoints.load_checkpoint(target), judge,
                      cu.CheckpointError, limit_s=10)
    seconds = time.perf_counter() - t0
    load = os.getloadavg()[0]
    print(f"\ncheckpoint fuzz, seed {SEED}, {seconds:.1f} s (load {load:.1f}):\n{tally.report()}")
    total = tally.total()
    assert sum(total.values()) >= 700
    assert total.get("course_error", 0) > 300
    assert not tally.failures, "\n".join(tally.failures[:40])
