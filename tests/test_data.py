import pytest
import torch
import torchvision

import course_utils as cu


def test_mnist_tensors_shapes_and_ranges(settings):
    x, y = cu.mnist_tensors(settings, train=False)
    assert x.shape[1:] == (1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert len(x) in (2000, 10000)  # offline mirror or full MNIST
    assert x.min() == 0 and x.max() == 1
    assert set(y.unique().tolist()) == set(range(10))
    xm, _ = cu.mnist_tensors(settings, train=False, value_range=(-1, 1), limit=100)
    assert len(xm) == 100 and xm.min() == -1 and xm.max() == 1
    torch.testing.assert_close((xm + 1) / 2, x[:100])


def test_mnist_matches_torchvision_dataset(settings):
    ds = torchvision.datasets.MNIST(settings.data_dir, train=True, download=True)
    x, y = cu.mnist_tensors(settings, train=True, limit=10)
    img, label = ds[3]
    torch.testing.assert_close(x[3, 0], torchvision.transforms.functional.pil_to_tensor(img)[0].float() / 255)
    assert y[3].item() == label


def test_offline_missing_mnist_is_a_clear_error(empty_settings, monkeypatch):
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(cu.DatasetUnavailableError) as info:
        cu.mnist_tensors(empty_settings)
    msg = str(info.value)
    assert "MNIST" in msg and "connect to the internet" in msg and "COURSE_DATA_DIR" in msg


def test_train_val_split_is_reproducible_and_disjoint(settings):
    ds = cu.mnist_dataset(settings, limit=500)
    a_train, a_val = cu.train_val_split(ds, 100, seed=1)
    b_train, b_val = cu.train_val_split(ds, 100, seed=1)
    assert a_val.indices == b_val.indices and len(a_train) == 400
    assert not set(a_train.indices) & set(a_val.indices)
    with pytest.raises(ValueError, match="val_size"):
        cu.train_val_split(ds, 500)
