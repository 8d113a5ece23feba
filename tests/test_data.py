"""MNIST as tensors: shapes, ranges, the offline error, and every way a file can be damaged."""

import gzip
import hashlib
import os
import shutil
from pathlib import Path

import pytest
import torch
import torchvision

import course_utils as cu
from course_utils import data


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


# ------------------------------------------------------------------ damaged files (issue 6)

@pytest.fixture
def mnist_copy(settings, tmp_path):
    """A writable copy of the data folder's test split (raw idx files and their .gz), to damage."""
    src = Path(settings.data_dir) / "MNIST" / "raw"
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copyfile(src / name, raw / name)
        if (src / f"{name}.gz").is_file():
            shutil.copyfile(src / f"{name}.gz", raw / f"{name}.gz")
        else:  # what a download leaves next to the extracted file
            (raw / f"{name}.gz").write_bytes(gzip.compress((raw / name).read_bytes(), compresslevel=1))
    copy = cu.get_settings({"COURSE_SMOKE": "1", "COURSE_DATA_DIR": str(tmp_path / "data"),
                            "COURSE_CHECKPOINT_DIR": str(tmp_path / "ckpt")})
    return copy, raw


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])


def _edit(path: Path, offset: int, value: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[offset:offset + len(value)] = value
    path.write_bytes(bytes(data))


def test_an_intact_copy_loads_like_the_original(mnist_copy, settings):
    copy, _ = mnist_copy
    x, y = cu.mnist_tensors(copy, train=False)
    x0, y0 = cu.mnist_tensors(settings, train=False)
    assert torch.equal(x, x0) and torch.equal(y, y0)


def test_one_changed_pixel_is_detected(mnist_copy, offline):
    copy, raw = mnist_copy
    f = raw / "t10k-images-idx3-ubyte"
    _edit(f, 16 + 28 * 14 + 14, bytes([f.read_bytes()[16 + 28 * 14 + 14] ^ 0x01]))
    # Checked against the .gz next to it (the mirror), or the official md5 (full MNIST).
    damaged = r"(?s)t10k-images-idx3-ubyte is damaged.*(differs from t10k-images-idx3-ubyte.gz|not its md5)"
    with pytest.raises(cu.DatasetUnavailableError, match=damaged):
        cu.mnist_tensors(copy, train=False)


def test_a_flipped_magic_byte_is_named(mnist_copy, offline):
    copy, raw = mnist_copy
    _edit(raw / "t10k-labels-idx1-ubyte", 2, b"\x09")
    with pytest.raises(cu.DatasetUnavailableError,
                       match="t10k-labels-idx1-ubyte is damaged: its header begins with 0x00000901"):
        cu.mnist_tensors(copy, train=False)


def test_a_truncated_file_is_reported_as_truncated_not_missing(mnist_copy, offline):
    copy, raw = mnist_copy
    f = raw / "t10k-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:100_000])
    with pytest.raises(cu.DatasetUnavailableError) as info:
        cu.mnist_tensors(copy, train=False)
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte is damaged" in msg and "but the file has 100,000 bytes" in msg
    assert "could not be downloaded" not in msg


def test_labels_out_of_range_and_counts_that_differ(mnist_copy, offline, monkeypatch):
    copy, raw = mnist_copy
    labels = raw / "t10k-labels-idx1-ubyte"
    # Nothing to compare with (no .gz, not official): the checks of the values still catch these.
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setattr(data, "OFFICIAL_MD5", {})
    n = len(labels.read_bytes()) - 8
    _edit(labels, 8 + 5, b"\x0c")
    with pytest.raises(cu.DatasetUnavailableError, match="holds the label 12; MNIST labels are 0..9"):
        cu.mnist_tensors(copy, train=False)
    short = bytearray(labels.read_bytes()[:-10])
    short[4:8] = (len(short) - 8).to_bytes(4, "big")
    short[8 + 5] = 1
    labels.write_bytes(bytes(short))
    with pytest.raises(cu.DatasetUnavailableError, match=f"has {n - 10:,} labels for the {n:,} images"):
        cu.mnist_tensors(copy, train=False)


def test_official_files_are_checked_against_their_md5(mnist_copy, offline, monkeypatch):
    copy, raw = mnist_copy
    f = raw / "t10k-images-idx3-ubyte"
    (raw / "t10k-images-idx3-ubyte.gz").unlink()
    # Declare this copy "official", with its real md5: it loads; one changed byte is then caught.
    md5 = hashlib.md5(f.read_bytes()).hexdigest()
    monkeypatch.setitem(data.OFFICIAL_MD5, f.name, (f.stat().st_size, md5))
    cu.mnist_tensors(copy, train=False)
    _edit(f, 20_000, b"\x7f")
    with pytest.raises(cu.DatasetUnavailableError, match="official file's size but not its md5"):
        cu.mnist_tensors(copy, train=False)


def test_the_official_md5_table_matches_full_mnist(settings):
    # Runs where COURSE_DATA_DIR holds the official files (full MNIST, e.g. after a download).
    raw = Path(settings.data_dir) / "MNIST" / "raw"
    official = [n for n, (size, _) in data.OFFICIAL_MD5.items()
                if (raw / n).is_file() and (raw / n).stat().st_size == size]
    if not official:
        pytest.skip("the data folder holds the smaller offline mirror; the md5 logic is tested above")
    for name in official:
        assert hashlib.md5((raw / name).read_bytes()).hexdigest() == data.OFFICIAL_MD5[name][1], name


def test_a_damaged_gz_does_not_block_an_intact_file(mnist_copy, offline, monkeypatch):
    copy, raw = mnist_copy
    monkeypatch.setattr(data, "OFFICIAL_MD5", {})  # compare with the .gz, also for full MNIST
    gz = raw / "t10k-labels-idx1-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:-8] + b"\0" * 8)  # wrong CRC and size in the trailer
    with pytest.warns(UserWarning, match="could not be checked against it"):
        _, y = cu.mnist_tensors(copy, train=False)
    assert len(y) == len(raw.joinpath("t10k-labels-idx1-ubyte").read_bytes()) - 8


def test_a_folder_or_fifo_instead_of_a_file(mnist_copy, offline):
    copy, raw = mnist_copy
    f = raw / "t10k-labels-idx1-ubyte"
    f.unlink()
    os.mkfifo(f)
    with pytest.raises(cu.DatasetUnavailableError, match="is a FIFO"):
        cu.mnist_tensors(copy, train=False)


def test_offline_error_names_the_download_urls(empty_settings, offline):
    with pytest.raises(cu.DatasetUnavailableError) as info:
        cu.mnist_tensors(empty_settings)
    msg = str(info.value)
    for name, _ in torchvision.datasets.MNIST.resources:
        assert f"http://127.0.0.1:9/{name}" in msg  # the addresses that were tried
    assert "Missing: train-images-idx3-ubyte, train-labels-idx1-ubyte" in msg
