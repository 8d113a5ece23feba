"""The optional Inception-v3 FID/KID: offline it says why and computes nothing; it never hangs.

No test here touches the network: torch-fidelity and the download are replaced by
stand-ins (monkeypatch), so the tests run the same with or without the package.
"""

import time

import pytest
import torch
from torch import nn

from course_utils import metrics as M
from course_utils.metrics import inception


class FakeExtractor(nn.Module):
    """Stands in for torch-fidelity's FeatureExtractorInceptionV3: same call and input convention."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None):
        super().__init__()
        assert features_list == ["2048"] and feature_extractor_weights_path is not None
        self.w = nn.Parameter(torch.load(feature_extractor_weights_path, weights_only=True)["w"])

    def forward(self, x):
        assert x.dtype == torch.uint8 and x.shape[1] == 3  # bytes, three channels, as Inception expects
        pooled = nn.functional.adaptive_avg_pool2d(x.float() / 255, 4).flatten(1)  # [B, 48]
        return (pooled @ self.w,)


@pytest.fixture
def images():
    g = torch.Generator().manual_seed(0)
    return torch.rand(60, 1, 28, 28, generator=g), torch.rand(50, 1, 28, 28, generator=g) ** 2


def _no_network(*args, **kwargs):
    raise AssertionError("the network must not be used")


def test_without_torch_fidelity_it_says_so_and_reports_no_number(monkeypatch, tmp_path, images):
    def missing():
        raise ModuleNotFoundError("No module named 'torch_fidelity'")

    monkeypatch.setattr(inception, "_import_extractor_class", missing)
    monkeypatch.setattr(inception, "_download", _no_network)
    result = M.inception_metrics(*images, cache_dir=tmp_path)
    assert not result.available and result.fid is None and result.kid is None
    assert "torch-fidelity is not installed" in result.reason
    assert str(result).startswith("Inception-v3 FID/KID not computed (skipped): ")
    assert "FID =" not in str(result)


def test_offline_download_fails_fast_with_a_clear_reason(monkeypatch, tmp_path, images):
    calls = []

    def offline(url, dest, timeout_s):
        calls.append((url, dest, timeout_s))
        raise ConnectionError("Failed to resolve 'github.com'")

    monkeypatch.setattr(inception, "_import_extractor_class", lambda: FakeExtractor)
    monkeypatch.setattr(inception, "_download", offline)
    start = time.perf_counter()
    result = M.inception_metrics(*images, cache_dir=tmp_path, timeout_s=3)
    assert time.perf_counter() - start < 5
    assert calls == [(inception.INCEPTION_URL, tmp_path / inception.INCEPTION_FILE, 3)]
    assert not result.available and result.fid is None
    assert "could not download" in result.reason and "Offline?" in result.reason
    # with downloads switched off, the network is not even tried
    monkeypatch.setattr(inception, "_download", _no_network)
    result = M.inception_metrics(*images, cache_dir=tmp_path, allow_download=False)
    assert not result.available and "allow_download=False" in result.reason
    result = M.inception_metrics(*images, weights_path=tmp_path / "nowhere.pth")
    assert not result.available and "does not exist" in result.reason


def test_a_corrupted_download_is_deleted_and_not_used(monkeypatch, tmp_path, images):
    def wrong_file(url, dest, timeout_s):
        dest.write_bytes(b"<html>captive portal</html>")

    monkeypatch.setattr(inception, "_import_extractor_class", lambda: FakeExtractor)
    monkeypatch.setattr(inception, "_download", wrong_file)
    result = M.inception_metrics(*images, cache_dir=tmp_path)
    assert not result.available and "sha256" in result.reason
    assert not (tmp_path / inception.INCEPTION_FILE).exists()


def test_with_weights_in_the_cache_it_computes_fid_and_kid_on_those_features(monkeypatch, tmp_path, images):
    # 32 features instead of 2048 keep this test fast and its covariances non-singular
    torch.save({"w": torch.randn(48, 32, generator=torch.Generator().manual_seed(0))},
               tmp_path / inception.INCEPTION_FILE)
    monkeypatch.setattr(inception, "_import_extractor_class", lambda: FakeExtractor)
    monkeypatch.setattr(inception, "_download", _no_network)
    real, fake = images
    result = M.inception_metrics(real, fake, cache_dir=tmp_path, kid_subsets=5, kid_subset_size=40)
    assert result.available and result.n_real == 60 and result.n_fake == 50
    net = inception.load_inception(cache_dir=tmp_path)
    fr, ff = M.extract_features(net, real, batch_size=50), M.extract_features(net, fake, batch_size=50)
    assert fr.shape == (60, 32)
    expected = M.fid(fr, ff)
    assert result.fid == pytest.approx(expected, rel=1e-6)
    assert result.kid.mean == pytest.approx(M.kid(fr, ff, subsets=5, subset_size=40).mean, rel=1e-6)
    assert str(result).startswith("Inception-v3 FID = ")
    # input mistakes are errors, not "unavailable"
    with pytest.raises(ValueError, match="1 or 3"):
        M.inception_metrics(real[:, :, :2].expand(-1, 2, -1, -1), fake, cache_dir=tmp_path)


def test_a_weights_file_that_is_not_plain_tensors_is_refused(monkeypatch, tmp_path, images):
    (tmp_path / inception.INCEPTION_FILE).write_bytes(b"not a torch file")
    monkeypatch.setattr(inception, "_import_extractor_class", lambda: FakeExtractor)
    result = M.inception_metrics(*images, cache_dir=tmp_path)
    assert not result.available and "not a readable weights file" in result.reason


def test_the_real_download_has_a_timeout(monkeypatch, tmp_path):
    import pooch

    seen = {}

    def retrieve(url, known_hash=None, fname=None, path=None, downloader=None, **kwargs):
        seen.update(url=url, fname=fname, path=path, timeout=downloader.kwargs.get("timeout"))

    monkeypatch.setattr(pooch, "retrieve", retrieve)
    inception._download(inception.INCEPTION_URL, tmp_path / inception.INCEPTION_FILE, 3.0)
    assert seen == {"url": inception.INCEPTION_URL, "fname": inception.INCEPTION_FILE, "path": tmp_path,
                    "timeout": 3.0}
