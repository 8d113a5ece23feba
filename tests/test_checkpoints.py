"""Checkpoints: atomic, safe to load, and clear about every way a file can be unusable."""


import numpy as np
import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils import checkpoints


def _model(width=4):
    return nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, 2))


def test_save_and_load_model(tmp_path):
    m = _model()
    path = cu.save_model(m, tmp_path / "m.pt", config={"width": 4})
    m2 = cu.load_model(_model(), path)
    for a, b in zip(m.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert checkpoints.load_checkpoint(path)["config"] == {"width": 4}


def test_interrupted_atomic_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = cu.save_model(_model(), tmp_path / "m.pt")
    before = path.read_bytes()
    real_save = torch.save

    def dies_halfway(obj, f, *a, **kw):
        real_save(obj, f, *a, **kw)
        f.truncate(100)  # half-written ...
        raise KeyboardInterrupt  # ... when the learner presses Ctrl-C

    monkeypatch.setattr(torch, "save", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        cu.save_model(_model(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]  # no temporary file left behind
    monkeypatch.undo()
    cu.load_model(_model(), path)


def test_missing(tmp_path):
    with pytest.raises(cu.CheckpointError, match="No checkpoint"):
        cu.load_model(_model(), tmp_path / "none.pt")


def test_empty(tmp_path):
    (tmp_path / "e.pt").write_bytes(b"")
    with pytest.raises(cu.CheckpointError, match="empty"):
        cu.load_model(_model(), tmp_path / "e.pt")


def test_truncated(tmp_path):
    path = cu.save_model(_model(), tmp_path / "t.pt")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(cu.CheckpointError, match="corrupt or truncated"):
        cu.load_model(_model(), path)


def test_garbage(tmp_path):
    # Many different random files: each must give the course's error, never a raw KeyError etc.
    rng = np.random.default_rng(0)
    for _ in range(300):
        (tmp_path / "g.pt").write_bytes(rng.bytes(int(rng.integers(1, 4000))))
        with pytest.raises(cu.CheckpointError, match="corrupt or truncated|cannot be loaded safely"):
            cu.load_model(_model(), tmp_path / "g.pt")
    # Random bytes after a valid pickle protocol header (the legacy format's first bytes)
    for _ in range(300):
        (tmp_path / "g.pt").write_bytes(b"\x80\x02" + rng.bytes(int(rng.integers(1, 400))))
        with pytest.raises(cu.CheckpointError, match="corrupt or truncated|cannot be loaded safely"):
            cu.load_model(_model(), tmp_path / "g.pt")


def test_foreign_file(tmp_path):
    torch.save({"state_dict": _model().state_dict()}, tmp_path / "f.pt")
    with pytest.raises(cu.CheckpointError, match="not a course_utils checkpoint"):
        cu.load_model(_model(), tmp_path / "f.pt")


class Payload:
    """Stands for arbitrary code hidden in a pickle."""


def test_unsafe_pickle_is_refused(tmp_path):
    torch.save({"format": checkpoints.FORMAT, "models": {"model": Payload()}}, tmp_path / "u.pt")
    with pytest.raises(cu.CheckpointError, match="cannot be loaded safely"):
        cu.load_model(_model(), tmp_path / "u.pt")


def test_incompatible_architecture(tmp_path):
    path = cu.save_model(_model(width=4), tmp_path / "w4.pt")
    with pytest.raises(cu.CheckpointError, match="(?s)does not fit .*size mismatch"):
        cu.load_model(_model(width=8), path)
    with pytest.raises(cu.CheckpointError, match="no model named 'G'"):
        cu.load_model(_model(), path, key="G")


