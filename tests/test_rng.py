"""Random numbers: seeding, saving, restoring, and blocks that leave the caller's numbers untouched."""

import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import course_utils as cu
from course_utils import checkpoints, rng


def draw():
    return random.random(), np.random.rand(), torch.rand(2).tolist()


def test_seed_everything_repeats_all_generators():
    cu.seed_everything(123)
    first = draw()
    cu.seed_everything(123)
    assert draw() == first
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark


def test_rng_state_round_trip():
    state = rng.rng_state()
    first = draw()
    rng.set_rng_state(state)
    assert draw() == first


def test_rng_state_survives_a_weights_only_round_trip(tmp_path):
    checkpoints.atomic_save({"format": checkpoints.FORMAT, "rng": rng.rng_state()}, tmp_path / "r.pt")
    first = draw()
    rng.set_rng_state(checkpoints.load_checkpoint(tmp_path / "r.pt")["rng"])
    assert draw() == first


def test_isolated_rng_gives_the_caller_its_numbers_back_for_every_generator():
    cu.seed_everything(7)
    expected = draw()
    cu.seed_everything(7)
    with cu.isolated_rng(seed=0):
        inside = draw()
        random.seed(99)
        np.random.seed(99)
        torch.manual_seed(99)
        draw()
    assert draw() == expected
    with cu.isolated_rng(seed=0):
        assert draw() == inside  # the block's own numbers repeat


def test_isolated_rng_restores_after_an_exception():
    cu.seed_everything(3)
    expected = draw()
    cu.seed_everything(3)
    with pytest.raises(KeyboardInterrupt), cu.isolated_rng(seed=1):
        draw()
        raise KeyboardInterrupt
    assert draw() == expected


def test_isolated_rng_covers_cuda_and_mps_when_present(monkeypatch):
    """On a machine with CUDA or MPS their generators are saved and restored too (faked here)."""
    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: ["cuda-state"])
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", lambda s: calls.append(("cuda", s)))
    monkeypatch.setattr(rng, "_mps_available", lambda: True)
    monkeypatch.setattr(torch.mps, "get_rng_state", lambda: "mps-state")
    monkeypatch.setattr(torch.mps, "set_rng_state", lambda s: calls.append(("mps", s)))
    with cu.isolated_rng():
        pass
    assert calls == [("cuda", ["cuda-state"]), ("mps", "mps-state")]


def test_loading_a_finished_run_inside_isolated_rng_leaves_the_callers_numbers(tmp_path):
    """Loading or resuming restores the RNG states saved in the checkpoint; the caller must not see them."""
    data = TensorDataset(torch.randn(16, 3), torch.randn(16, 1))

    def recipe():
        with cu.isolated_rng(seed=0):
            model = torch.nn.Linear(3, 1)
            opt = torch.optim.SGD(model.parameters(), lr=0.1)

            def step(batch):
                loss = torch.nn.functional.mse_loss(model(batch[0]), batch[1])
                opt.zero_grad()
                loss.backward()
                opt.step()
                return {"loss": loss.item()}

            cu.train(step, DataLoader(data, batch_size=4, shuffle=True), epochs=2, modules={"m": model},
                     optimizers={"o": opt}, checkpoint=tmp_path / "run.pt", progress_bar=False)
        return model

    recipe()  # trains and saves
    cu.seed_everything(5)
    expected = draw()
    cu.seed_everything(5)
    recipe()  # loads: restores the checkpoint's RNG states inside the block
    assert draw() == expected
