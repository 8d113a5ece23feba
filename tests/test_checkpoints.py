"""Checkpoints: atomic, safe to load, and clear about every way a file can be unusable."""

import errno
import os
import tempfile

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

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
        with pytest.raises(cu.CheckpointError, match="legacy .* never writes"):
            cu.load_model(_model(), tmp_path / "g.pt")


def test_foreign_file(tmp_path):
    torch.save({"state_dict": _model().state_dict()}, tmp_path / "f.pt")
    with pytest.raises(cu.CheckpointError, match="not a course_utils checkpoint"):
        cu.load_model(_model(), tmp_path / "f.pt")


class Payload:
    """Stands for arbitrary code hidden in a pickle."""


def test_unsafe_pickle_is_refused(tmp_path):
    torch.save({"format": checkpoints.FORMAT, "models": {"model": Payload()}}, tmp_path / "u.pt")
    with pytest.raises(cu.CheckpointError, match="(?s)other than tensors.*could run code") as info:
        cu.load_model(_model(), tmp_path / "u.pt")
    assert "weights_only=False" not in str(info.value)  # never invite the unsafe "fix"


class Canary:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_no_code_is_executed_by_loading(tmp_path):
    canary = tmp_path / "code-ran"
    torch.save({"format": checkpoints.FORMAT, "models": {"model": {"w": Canary(str(canary))}}},
               tmp_path / "evil.pt")
    assert not canary.exists()
    with pytest.raises(cu.CheckpointError, match="could run code"):
        cu.load_model(_model(), tmp_path / "evil.pt")
    assert not canary.exists()


def test_incompatible_architecture(tmp_path):
    path = cu.save_model(_model(width=4), tmp_path / "w4.pt")
    with pytest.raises(cu.CheckpointError, match="(?s)does not fit .*size mismatch"):
        cu.load_model(_model(width=8), path)
    with pytest.raises(cu.CheckpointError, match="no model named 'G'"):
        cu.load_model(_model(), path, key="G")




# ------------------------------------------------------------------ the hardening findings (issue 5)


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_stale_temp_files_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    path = tmp_path / "m.pt"
    dead = tmp_path / f".m.pt.{_dead_pid()}.abc123.tmp"    # a killed save of this target
    old_style = tmp_path / ".m.pt.k2j4x9qa.tmp"             # named by an older course_utils
    alive = tmp_path / f".m.pt.{os.getppid()}.def456.tmp"  # a save still running in another process
    other = tmp_path / f".other.pt.{_dead_pid()}.x.tmp"     # another target's: not this save's business
    for f in (dead, old_style, alive, other):
        f.write_bytes(b"half a checkpoint")
    cu.save_model(_model(), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, alive.name, other.name])
    cu.load_model(_model(), path)


def test_a_failed_save_leaves_no_temp_file(tmp_path, monkeypatch):
    def disk_full(obj, f, *a, **kw):
        f.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(cu.CheckpointError, match="disk is full"):
        cu.save_model(_model(), tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("layout,problem", [
    ({"kind": "model", "models": [1, 2]}, "'models' must map names to state dicts"),
    ({"kind": "model", "models": {"model": "weights"}}, "'models' must map names to state dicts"),
    ({"kind": "model", "models": {"model": {"0.weight": 1.5}}},
     "the state dicts in .models. must hold only tensors"),
    ({"kind": "model", "config": [1], "models": {}}, "'config' must be a dict"),
    ({"kind": 3, "models": {}}, "'kind' must be a string"),
    ({"kind": "training", "models": {}, "epoch": "2", "history": [], "rng": None},
     "'epoch' must be a whole number.*'history' must be.*'rng' must hold"),
])
def test_the_course_marker_with_an_odd_payload_is_refused_clearly(tmp_path, layout, problem):
    path = checkpoints.atomic_save({"format": checkpoints.FORMAT, **layout}, tmp_path / "odd.pt")
    with pytest.raises(cu.CheckpointError, match=f"not the layout course_utils writes: {problem}"):
        cu.load_model(_model(), path)


def test_an_odd_resume_state_is_refused_before_training(tmp_path):
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    path = checkpoints.atomic_save({"format": checkpoints.FORMAT, "kind": "training", "config": {},
                                    "epoch": 1, "history": {"epoch": {}, "step": {}}, "rng": {"python": 1},
                                    "models": {"m": model.state_dict()}}, tmp_path / "run.pt")
    with pytest.raises(cu.CheckpointError, match="'rng' must hold"):
        cu.train(lambda b: {"loss": 0.0}, [0], epochs=2, modules={"m": model}, optimizers={"m": opt},
                 checkpoint=path, progress_bar=False)


@pytest.mark.parametrize("content,says", [
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b12"
     b"58daaa5e2ca24d17e2393\nsize 132\n", "Git LFS pointer.*git lfs pull"),
    (b"<!DOCTYPE html><html><body>Sign in to continue</body></html>", "web page \\(HTML\\)"),
    (b"just some notes\n", "a text file, not a checkpoint \\(it begins 'just some notes'\\)"),
])
def test_files_that_are_not_checkpoints_are_named_for_what_they_are(tmp_path, content, says):
    (tmp_path / "m.pt").write_bytes(content)
    with pytest.raises(cu.CheckpointError, match=says) as info:
        cu.load_model(_model(), tmp_path / "m.pt")
    assert "weights_only" not in str(info.value)


def test_a_folder_or_a_fifo_is_not_a_checkpoint(tmp_path):
    (tmp_path / "dir.pt").mkdir()
    with pytest.raises(cu.CheckpointError, match="dir.pt is a folder, not a checkpoint file"):
        cu.load_model(_model(), tmp_path / "dir.pt")
    os.mkfifo(tmp_path / "fifo.pt")  # reading it would wait forever for a writer
    with pytest.raises(cu.CheckpointError, match="is a FIFO"):
        cu.load_model(_model(), tmp_path / "fifo.pt")
    with pytest.raises(cu.CheckpointError, match="is a folder. Give the path of a checkpoint file inside"):
        cu.save_model(_model(), tmp_path / "dir.pt")
    with pytest.raises(cu.CheckpointError, match="/dev/zero is a character device"):
        cu.load_model(_model(), "/dev/zero")  # would be read until memory runs out


def _read_only(folder, monkeypatch):
    """A folder that cannot be written: chmod for ordinary users; root ignores permissions, so for
    root the refusal the file system would give is simulated at the system call."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o500)
        return
    real = tempfile.mkstemp

    def refuse(*a, dir=None, **kw):
        if dir is not None and os.path.samefile(dir, folder):
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))
        return real(*a, dir=dir, **kw)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


def test_a_read_only_checkpoint_folder_is_refused_before_training(tmp_path, monkeypatch):
    _read_only(tmp_path / "ro", monkeypatch)
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = []

    def step(batch):
        steps.append(1)
        return {"loss": 0.0}

    loader = DataLoader(TensorDataset(torch.zeros(4, 3)), batch_size=2)
    with pytest.raises(cu.CheckpointError, match="(?s)Permission denied.*nothing was trained"):
        cu.train(step, loader, epochs=1, modules={"m": model}, optimizers={"m": opt},
                 checkpoint=tmp_path / "ro" / "run.pt", progress_bar=False)
    assert steps == []
    with pytest.raises(cu.CheckpointError, match="Permission denied"):
        cu.save_model(model, tmp_path / "ro" / "m.pt")
    (tmp_path / "ro").chmod(0o700)


def test_a_flipped_bit_in_the_weights_is_detected(tmp_path):
    model = _model()
    path = cu.save_model(model, tmp_path / "m.pt")
    data = bytearray(path.read_bytes())
    weights = model[0].weight.detach().numpy().tobytes()
    at = data.find(weights)
    assert at > 0  # the zip archive stores tensors uncompressed
    data[at + 5] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(cu.CheckpointError, match="damaged: its content does not match its checksum"):
        cu.load_model(_model(), path)


def test_checkpoints_without_a_checksum_are_refused(tmp_path):
    # Decision: a checkpoint made before checksums existed cannot be verified, so it is refused with
    # a message that says to retrain (every course model is retrained in a few minutes).
    torch.save({"format": checkpoints.FORMAT, "kind": "model", "config": {},
                "models": {"model": _model().state_dict()}}, tmp_path / "old.pt")
    with pytest.raises(cu.CheckpointError, match="no checksum: it was made by an older version.*retrain"):
        cu.load_model(_model(), tmp_path / "old.pt")


def test_the_checksum_covers_every_entry():
    m = _model()
    base = {"format": checkpoints.FORMAT, "kind": "model", "config": {"lr": 0.1},
            "models": {"model": m.state_dict()}}
    digest = checkpoints.checksum(base)
    assert checkpoints.checksum({**base, "sha256": "ignored"}) == digest
    for changed in ({**base, "config": {"lr": 0.2}}, {**base, "kind": "training"},
                    {**base, "config": {"lr": 0.1, "extra": None}},
                    {**base, "models": {"model": {k: v.clone() for k, v in m.state_dict().items()} | {
                        "0.bias": m.state_dict()["0.bias"] + 1e-7}}}):
        assert checkpoints.checksum(changed) != digest
    with pytest.raises(cu.CheckpointError, match="cannot be stored in a checkpoint"):
        checkpoints.atomic_save({**base, "config": {"f": object()}}, "/tmp/never-written.pt")
