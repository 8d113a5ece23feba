"""Killing a process in the middle of ``save_model`` and ``save_image``, again and again.

A child process (forked, so that it starts at once with torch already imported) saves
the same file over and over; the test kills it with SIGKILL at a random moment, 20
times per function. After every kill the file must be complete (it loads, and is one of
the versions the child wrote), and temporary files must not accumulate: a kill leaves
at most the one temporary file it interrupted, and the next save removes it.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time

import numpy as np
import pytest
import torch
from torch import nn

import course_utils as cu

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL are POSIX")

KILLS = 20


def _temps(folder, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir()
                  if p.name.startswith(f".{name}.") and p.name.endswith(".tmp"))


def _kill_repeatedly(save_once, path, check, seed: int) -> dict[str, int]:
    """Fork a child that calls ``save_once(version)`` for ever; after its first complete save, SIGKILL
    it at a random moment of the following saves; repeat ``KILLS`` times."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    save_once(0)
    seconds = time.perf_counter() - t0  # how long one save takes now, on this machine
    counts = {"kills": 0, "mid_write": 0, "complete_after_kill": 0, "max_temps": 0}
    for _ in range(KILLS):
        ready, tell = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: save until killed
            try:
                os.close(ready)
                torch.set_num_threads(1)  # the parent's OpenMP threads do not exist in a forked child
                for version in range(1, 10**9):
                    save_once(version)
                    if version == 1:
                        os.write(tell, b"1")
            finally:
                os._exit(1)
        os.close(tell)
        try:
            saved = select.select([ready], [], [], 60)[0]
            if saved:
                time.sleep(float(rng.uniform(0, 2 * seconds)))
        finally:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(ready)
        assert saved, "the child did not finish a save in 60 s"
        counts["kills"] += 1
        temps = _temps(path.parent, path.name)
        counts["mid_write"] += bool(temps)
        counts["max_temps"] = max(counts["max_temps"], len(temps))
        assert len(temps) <= 1, f"temporary files accumulate: {temps}"
        check(path)  # complete: loads, and is one of the versions the child wrote
        counts["complete_after_kill"] += 1
    return counts


def test_killed_save_model_never_leaves_a_broken_checkpoint_or_stray_temp_files(tmp_path):
    path = tmp_path / "m.pt"
    model = nn.Sequential(nn.Linear(512, 1024), nn.Linear(1024, 512))  # about 4 MB: a save takes a while

    def save_once(version):
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(float(version))
        cu.save_model(model, path, config={"version": version})

    def check(p):
        loaded = cu.load_model(nn.Sequential(nn.Linear(512, 1024), nn.Linear(1024, 512)), p)
        version = cu.checkpoints.load_checkpoint(p)["config"]["version"]
        assert all((q == version).all() for q in loaded.parameters())

    counts = _kill_repeatedly(save_once, path, check, seed=1)
    print(f"\nsave_model: {counts}")
    assert counts["complete_after_kill"] == KILLS
    assert counts["mid_write"] >= 3  # the kills did hit saves in progress
    cu.save_model(model, path)
    assert _temps(tmp_path, "m.pt") == [] and sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_killed_save_image_never_leaves_a_broken_picture_or_stray_temp_files(tmp_path):
    path = tmp_path / "x.png"
    noise = torch.rand(2, 256, 256, generator=torch.Generator().manual_seed(0))  # PNG-encodes slowly

    def save_once(version):
        cu.save_image(torch.cat([torch.full((1, 256, 256), (version % 256) / 255), noise]), path)

    def check(p):
        t = cu.load_image(p)
        assert t.shape == (3, 256, 256) and (t[0] == t[0, 0, 0]).all()  # one version, not a mix
        torch.testing.assert_close(t[1:], noise, atol=0.5 / 255 + 1e-6, rtol=0)

    counts = _kill_repeatedly(save_once, path, check, seed=2)
    print(f"\nsave_image: {counts}")
    assert counts["complete_after_kill"] == KILLS
    assert counts["mid_write"] >= 3
    cu.save_image(noise[:1], path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png"]
