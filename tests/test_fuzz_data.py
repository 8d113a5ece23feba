"""Fuzzing the MNIST reader: truncated, bit-flipped, header-edited and spliced idx files.

Copies of the data folder's test split (its first 500 digits, to keep the test fast: the raw
idx files and a ``.gz`` of each) are damaged one mutation at a time. ``cu.mnist_tensors`` must
then return exactly the original tensors (only possible when the mutation hit the ``.gz``,
which is only a reference) or raise the course's ``DatasetUnavailableError``: never another
exception, never a hang, never a changed pixel or label used silently.
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torchvision
from _fuzz import Tally, mutations

import course_utils as cu

SEED = 20261204
NAMES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
N_ITEMS = 500  # digits per file: enough for every part of the format, small enough to read 300 times
PER_FILE = {
    "t10k-images-idx3-ubyte": {"truncations": 20, "flips": 40, "header_edits": 40, "splices": 10},
    "t10k-labels-idx1-ubyte": {"truncations": 20, "flips": 40, "header_edits": 40, "splices": 10},
    "t10k-images-idx3-ubyte.gz": {"truncations": 6, "flips": 10, "header_edits": 6, "splices": 4},
    "t10k-labels-idx1-ubyte.gz": {"truncations": 6, "flips": 10, "header_edits": 6, "splices": 4},
}


def test_fuzz_mnist_every_input_gives_the_original_data_or_the_course_error(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # never download
    src = Path(settings.data_dir) / "MNIST" / "raw"
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    originals = {}
    for name in NAMES:  # the first N_ITEMS real digits and labels, as idx files with their .gz
        data = bytearray((src / name).read_bytes())
        header, item = (16, 28 * 28) if "images" in name else (8, 1)
        data[4:8] = N_ITEMS.to_bytes(4, "big")
        originals[name] = bytes(data[:header + N_ITEMS * item])
        originals[f"{name}.gz"] = gzip.compress(originals[name], 6)  # what a download leaves next to it
    for name, data in originals.items():
        (raw / name).write_bytes(data)
    copy = cu.get_settings({"COURSE_SMOKE": "1", "COURSE_DATA_DIR": str(tmp_path / "data"),
                            "COURSE_CHECKPOINT_DIR": str(tmp_path / "ckpt")})
    x0, y0 = cu.mnist_tensors(copy, train=False)

    def judge(result) -> str:
        x, y = result
        return "correct" if torch.equal(x, x0) and torch.equal(y, y0) else "changed data used silently"

    def load():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "the .gz is damaged": expected here
            return cu.mnist_tensors(copy, train=False)

    rng = np.random.default_rng(SEED)
    tally = Tally()
    t0 = time.perf_counter()
    for name, data in originals.items():
        gz = name.endswith(".gz")  # a gzip header is 10 bytes; its trailer (CRC, size) 8
        header = [(0, 10), (len(data) - 8, len(data))] if gz else [(0, 16 if "images" in name else 8)]
        for label, kind, mutated in mutations(data, header, rng, **PER_FILE[name]):
            (raw / name).write_bytes(mutated)
            tally.run(name, f"{label} ({kind})", load, judge, cu.DatasetUnavailableError, limit_s=10)
        (raw / name).write_bytes(data)
    seconds = time.perf_counter() - t0
    print(f"\nMNIST fuzz, seed {SEED}, {seconds:.1f} s (load {os.getloadavg()[0]:.1f}):\n{tally.report()}")
    total = tally.total()
    assert sum(total.values()) >= 250 and total.get("course_error", 0) >= 200
    assert not tally.failures, "\n".join(tally.failures[:40])
    shutil.rmtree(raw)
