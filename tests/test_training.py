"""The training loop: resume equals an uninterrupted run, train-or-load, early stopping, metrics."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

import course_utils as cu


def _setup(settings, seed):
    """A small model, optimiser and shuffling loader on 512 real MNIST digits."""
    cu.seed_everything(seed)
    ds = cu.mnist_dataset(settings, limit=512)
    loader = DataLoader(ds, batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return model, opt, loader


def _step(model, opt, interrupt_at=None):
    calls = {"n": 0}

    def step(batch):
        calls["n"] += 1
        if calls["n"] == interrupt_at:
            raise KeyboardInterrupt
        x, y = batch
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    return step, calls


def _run(settings, path, epochs, seed=0, interrupt_at=None):
    model, opt, loader = _setup(settings, seed)
    step, calls = _step(model, opt, interrupt_at)
    history = cu.train(step, loader, epochs=epochs, modules={"model": model}, optimizers={"opt": opt},
                       checkpoint=path, config={"lr": 0.1}, progress_bar=False)
    return model, history, calls


def test_resumed_run_matches_uninterrupted_run(settings, tmp_path):
    ref_model, ref_hist, _ = _run(settings, tmp_path / "ref.pt", epochs=3)

    # Interrupt in the middle of epoch 2 (8 steps per epoch): the checkpoint holds epoch 1.
    with pytest.raises(KeyboardInterrupt):
        _run(settings, tmp_path / "run.pt", epochs=3, interrupt_at=12)
    assert cu.checkpoints.load_checkpoint(tmp_path / "run.pt")["epoch"] == 1

    # A "new kernel": different seed, fresh objects; the checkpoint restores everything.
    model, hist, calls = _run(settings, tmp_path / "run.pt", epochs=3, seed=999)
    assert calls["n"] == 16  # only epochs 2 and 3 were trained
    for a, b in zip(ref_model.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert hist.step["loss"] == ref_hist.step["loss"]
    assert hist.epoch["loss"] == ref_hist.epoch["loss"] and hist.epochs_done == 3


def test_finished_run_is_loaded_not_retrained(settings, tmp_path, capsys):
    model, hist, _ = _run(settings, tmp_path / "m.pt", epochs=2)
    model2, hist2, calls = _run(settings, tmp_path / "m.pt", epochs=2, seed=5)
    assert calls["n"] == 0 and "already trained" in capsys.readouterr().out
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), model2.state_dict().values(),
                                                  strict=True))
    assert hist2.epoch["loss"] == hist.epoch["loss"]


def test_more_epochs_continue_a_finished_run(settings, tmp_path):
    _run(settings, tmp_path / "m.pt", epochs=1)
    _, hist, calls = _run(settings, tmp_path / "m.pt", epochs=2)
    assert calls["n"] == 8 and hist.epochs_done == 2


def test_checkpoint_with_other_settings_is_refused(settings, tmp_path):
    _run(settings, tmp_path / "m.pt", epochs=1)
    model, opt, loader = _setup(settings, 0)
    step, _ = _step(model, opt)
    with pytest.raises(cu.CheckpointError, match="(?s)other settings.*lr: saved 0.1, now 0.5"):
        cu.train(step, loader, epochs=2, modules={"model": model}, optimizers={"opt": opt},
                 checkpoint=tmp_path / "m.pt", config={"lr": 0.5}, progress_bar=False)


def test_checkpoint_of_another_architecture_is_refused(settings, tmp_path):
    _run(settings, tmp_path / "m.pt", epochs=1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(cu.CheckpointError, match="does not fit"):
        cu.train(lambda b: {}, [], epochs=2, modules={"model": model}, optimizers={"opt": opt},
                 checkpoint=tmp_path / "m.pt", config={"lr": 0.1}, progress_bar=False)


def test_early_stopping_keeps_the_best_weights(settings, tmp_path):
    model, opt, loader = _setup(settings, 0)
    step, _ = _step(model, opt)
    val_losses = [5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 3.8]
    weights = {}

    def end_of_epoch(epoch):
        weights[epoch] = {k: v.clone() for k, v in model.state_dict().items()}
        return {"val_loss": val_losses[epoch - 1]}

    hist = cu.train(step, loader, epochs=7, modules={"model": model}, optimizers={"opt": opt},
                    end_of_epoch=end_of_epoch, early_stopping=cu.EarlyStopping("val_loss", patience=2),
                    checkpoint=tmp_path / "es.pt", progress_bar=False)
    assert hist.stopped_early and hist.best_epoch == 3 and hist.epochs_done == 5
    for k, v in model.state_dict().items():
        assert torch.equal(v, weights[3][k])
    # loading the finished run gives the best weights too
    loaded = cu.load_model(_setup(settings, 1)[0], tmp_path / "es.pt")
    for k, v in loaded.state_dict().items():
        assert torch.equal(v, weights[3][k])


def test_fit_learns_real_digits(settings):
    cu.seed_everything(0)
    train_set = cu.mnist_dataset(settings, limit=2000)
    test_set = cu.mnist_dataset(settings, train=False)
    model = cu.MnistClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    hist = cu.fit(model, DataLoader(train_set, batch_size=64, shuffle=True), opt, epochs=2,
                  device=torch.device("cpu"), val_loader=DataLoader(test_set, batch_size=500),
                  progress_bar=False)
    assert hist.epoch["val_acc"][-1] > 0.9
    assert hist.epoch["loss"][1] < hist.epoch["loss"][0]


def test_accuracy_and_confusion_matrix_against_loops():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(200, 5, generator=gen)
    labels = torch.randint(0, 5, (200,), generator=gen)
    pred = logits.argmax(1)
    hits = sum(int(p == t) for p, t in zip(pred.tolist(), labels.tolist(), strict=True))
    assert cu.accuracy(logits, labels) == pytest.approx(hits / 200)
    cm = cu.confusion_matrix(pred, labels, 5)
    ref = torch.zeros(5, 5, dtype=torch.long)
    for p, t in zip(pred.tolist(), labels.tolist(), strict=True):
        ref[t, p] += 1
    assert torch.equal(cm, ref)
    with pytest.raises(ValueError, match="logits"):
        cu.accuracy(logits[:, 0], labels)
