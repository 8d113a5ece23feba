"""Notebook 07's promoted code (course_utils.fast_style): layers against references, the perceptual loss
against notebook 02's losses, stylisation of unusual inputs, and train-or-load with tiny configs."""

import warnings
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_utils as cu
from course_utils import fast_style as FS
from course_utils import style as S
from course_utils.photos import Photo, PhotoSet

TINY = {"channels": (4, 8, 8), "residual_blocks": 1}


@pytest.fixture(scope="module")
def vgg():
    return cu.vgg19(last_layer="relu4_1")


@pytest.fixture(scope="module")
def two_photos():
    """Two real photos that load fast (scikit-image's), as a photo set."""
    return PhotoSet("two scikit-image photos", "test2",
                    (Photo("coffee", "skimage:coffee"), Photo("rocket", "skimage:rocket")))


def _tiny_config(photos, **changes):
    return replace(FS.FastStyleConfig(photos=photos.tag, crop=16, painting_size=32, batch_size=2, steps=4,
                                      steps_per_epoch=2, **TINY), **changes)


# ---------------------------------------------------------------- layers


def test_transform_net_keeps_the_size_and_the_range():
    torch.manual_seed(0)
    net = FS.TransformNet(**TINY)
    y = net(torch.rand(2, 3, 32, 48))
    assert y.shape == (2, 3, 32, 48) and y.min() >= 0 and y.max() <= 1
    for upsample in ("resize", "transposed"):
        assert FS.TransformNet(**TINY, upsample=upsample)(torch.rand(1, 3, 16, 20)).shape == (1, 3, 16, 20)


def test_bad_layer_names_are_refused():
    with pytest.raises(ValueError, match="norm must be one of"):
        FS.ConvBlock(3, 4, 3, norm="group")
    with pytest.raises(ValueError, match="upsample must be"):
        FS.ConvBlock(3, 4, 3, upsample="pixelshuffle")


def test_conditional_instance_norm_against_nn_instance_norm():
    torch.manual_seed(0)
    cin = FS.ConditionalInstanceNorm2d(6, num_styles=3)
    with torch.no_grad():
        cin.gamma.normal_()
        cin.beta.normal_()
    x = torch.randn(2, 6, 5, 7)
    for s in range(3):
        ref = nn.InstanceNorm2d(6, affine=True)
        with torch.no_grad():
            ref.weight.copy_(cin.gamma[s])
            ref.bias.copy_(cin.beta[s])
        torch.testing.assert_close(cin(x, F.one_hot(torch.full((2,), s), 3).float()), ref(x))
    # a blend of two styles is instance norm with the blended (gamma, beta)
    mix = torch.tensor([[0.25, 0.75, 0.0]] * 2)
    ref = nn.InstanceNorm2d(6, affine=True)
    with torch.no_grad():
        ref.weight.copy_(0.25 * cin.gamma[0] + 0.75 * cin.gamma[1])
        ref.bias.copy_(0.25 * cin.beta[0] + 0.75 * cin.beta[1])
    torch.testing.assert_close(cin(x, mix), ref(x))


def test_adain_and_mean_std_against_references():
    x, y = torch.randn(2, 5, 6, 7) * 2 + 1, torch.rand(2, 5, 3, 9) * 4
    std, mean = torch.std_mean(x, dim=(2, 3), keepdim=True, correction=0)
    mu, sigma = FS.mean_std(x, eps=0.0)
    torch.testing.assert_close((mu, sigma), (mean, std))
    out = FS.adain(x, y)
    torch.testing.assert_close(FS.mean_std(out), FS.mean_std(y), rtol=1e-4, atol=1e-4)
    # the normalised content is kept: AdaIN is an affine map of each channel
    torch.testing.assert_close(F.instance_norm(out, eps=0), F.instance_norm(x, eps=0), rtol=1e-3, atol=1e-3)


def test_decoder_shape():
    d = FS.Decoder(width=16)
    assert d(torch.randn(1, 512, 3, 5)).shape == (1, 3, 24, 40)


# ---------------------------------------------------------------- losses


def test_perceptual_loss_is_notebook_02s_losses(vgg):
    torch.manual_seed(0)
    painting, other = torch.rand(3, 32, 40), torch.rand(3, 40, 32) * 0.5
    loss = FS.PerceptualLoss(vgg, [painting, other], content_weight=2.0, style_weight=1e-3, tv_weight=10.0)
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    got = loss(y, x, k=1)
    fy, fx = vgg(y, FS.STYLE_LAYERS | FS.CONTENT_LAYERS), vgg(x, FS.CONTENT_LAYERS)
    targets = {n: S.gram_matrix(f)[0] for n, f in vgg(other[None], FS.STYLE_LAYERS).items()}
    l_style = S.style_loss({n: S.gram_matrix(fy[n]) for n in FS.STYLE_LAYERS}, targets, FS.STYLE_LAYERS)
    l_content = S.content_loss(fy["relu2_2"], fx["relu2_2"])
    strength = [S.style_strength(vgg, a, FS.STYLE_LAYERS) for a in (painting, other)]
    beta = 1e-3 * strength[0] / strength[1]
    torch.testing.assert_close(got["style"], l_style)
    torch.testing.assert_close(got["content"], l_content)
    torch.testing.assert_close(got["total"], 2.0 * l_content + beta * l_style + 10.0 * S.total_variation(y))
    assert loss.betas[0] == 1e-3 and 0 < loss.betas[1] != 1e-3


def test_adain_losses_are_relative_errors_of_the_statistics():
    torch.manual_seed(0)
    f = {n: torch.randn(2, 4, 6, 6).relu() for n in FS.ADAIN_STYLE_LAYERS}
    s = {n: torch.randn(2, 4, 5, 7).relu() * 3 + 1 for n in FS.ADAIN_STYLE_LAYERS}
    shuffled = {n: v.flip(-1).flip(-2) for n, v in f.items()}  # same statistics, other positions
    assert FS.adain_style_loss(f, shuffled) < 1e-10
    expected = 0.0
    for n in FS.ADAIN_STYLE_LAYERS:  # by the formula, with torch.std_mean as the reference
        (sf, mf), (ss, ms) = (torch.std_mean(x[n], dim=(2, 3), correction=0) for x in (f, s))
        expected += (((mf - ms) ** 2).sum() + ((sf - ss) ** 2).sum()) / ((ms ** 2).sum() + (ss ** 2).sum())
    torch.testing.assert_close(FS.adain_style_loss(f, s), expected, rtol=1e-3, atol=1e-6)
    scaled = FS.adain_style_loss({n: 10 * v for n, v in f.items()}, {n: 10 * v for n, v in s.items()})
    torch.testing.assert_close(scaled, FS.adain_style_loss(f, s), rtol=1e-3, atol=1e-6)  # scale-free
    t = torch.rand(2, 8, 3, 3)
    torch.testing.assert_close(FS.adain_content_loss(2 * t, t), torch.tensor(1.0))


# ---------------------------------------------------------------- stylising unusual inputs


def test_stylize_any_size_grayscale_tiny_and_huge():
    torch.manual_seed(0)
    net = FS.TransformNet(**TINY).train()
    photo = torch.rand(3, 37, 53)
    y = FS.stylize(net, photo)
    assert y.shape == (3, 37, 53) and y.min() >= 0 and y.max() <= 1 and net.training  # mode given back
    assert FS.stylize(net, photo.mean(0, keepdim=True)).shape == (3, 37, 53)
    with pytest.warns(UserWarning, match="enlarged"):
        assert FS.stylize(net, torch.rand(3, 5, 9)).shape == (3, 5, 9)
    assert FS.stylize(net, torch.rand(3, 300, 200), max_side=64).shape == (3, 64, 43)


@pytest.mark.parametrize(("image", "message"), [
    (torch.rand(4, 16, 16), "RGBA"),
    (torch.rand(16, 16, 3), r"\[3, H, W\]"),
    (torch.rand(3, 16, 16) * 255, r"in \[0, 1\]"),
    (torch.full((3, 16, 16), float("nan")), "finite"),
])
def test_stylize_refuses_bad_images_clearly(image, message):
    with pytest.raises(ValueError, match=message):
        FS.stylize(FS.TransformNet(**TINY), image)


def test_stylize_adain_with_paintings_of_any_shape(vgg):
    torch.manual_seed(0)
    model = FS.AdaINNet(vgg, FS.Decoder(width=16)).eval()
    photo = torch.rand(3, 30, 41)
    strip, sliver = torch.rand(3, 20, 160), torch.rand(3, 2, 200)
    out = FS.stylize_adain(model, photo, [strip])
    assert out.shape == (3, 30, 41) and out.min() >= 0 and out.max() <= 1
    with pytest.warns(UserWarning, match="too small"):
        assert FS.stylize_adain(model, photo, [sliver]).shape == (3, 30, 41)
    blend = FS.stylize_adain(model, photo, [strip, strip], weights=[0.5, 0.5])
    torch.testing.assert_close(blend, out, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="one weight per style"):
        FS.stylize_adain(model, photo, [strip], weights=[0.5, 0.5])
    with pytest.raises(ValueError, match="alpha"):
        FS.stylize_adain(model, photo, [strip], alpha=1.5)


# ---------------------------------------------------------------- train or load


def test_train_load_resume_and_refuse(two_photos, settings, vgg):
    config = _tiny_config(two_photos)
    name = FS.checkpoint_name("johnson", config)
    assert name == "johnson_starry_night_test2"
    run = FS.train_fast_style(config, two_photos, settings, name=name, vgg=vgg, progress_bar=False)
    assert len(run.history.step["total"]) == 4 and not run.net.training
    again = FS.train_fast_style(config, two_photos, settings, name=name, vgg=vgg, progress_bar=False)
    for a, b in zip(run.net.state_dict().values(), again.net.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # loaded, not retrained

    # resuming: 2 steps, then on to 4, gives the same network as 4 steps at once
    half = FS.train_fast_style(replace(config, steps=2), two_photos, settings, name="resumed", vgg=vgg,
                               progress_bar=False)
    assert len(half.history.step["total"]) == 2
    resumed = FS.train_fast_style(config, two_photos, settings, name="resumed", vgg=vgg, progress_bar=False)
    for a, b in zip(run.net.state_dict().values(), resumed.net.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)

    with pytest.raises(cu.CheckpointError, match="other settings"):
        FS.train_fast_style(replace(config, residual_blocks=2), two_photos, settings, name=name, vgg=vgg,
                            progress_bar=False)
    with pytest.raises(cu.CheckpointError, match="does not fit"):  # another architecture
        cu.load_model(FS.TransformNet(channels=(8, 8, 8), residual_blocks=1), settings.checkpoint_path(name),
                      key="net")
    with pytest.raises(ValueError, match="photos given"):
        FS.train_fast_style(replace(config, photos="other"), two_photos, settings, name="x", vgg=vgg)


def test_multi_style_and_a_panorama_painting(two_photos, settings, vgg, tmp_path):
    scream = cu.load_image(cu.fetch_asset("the_scream.jpg", settings))
    panorama = tmp_path / "panorama.png"
    cu.save_image(scream[:, :40, :], panorama)  # a strip about 8 times wider than high
    config = _tiny_config(two_photos, paintings=("starry_night.jpg", str(panorama)), norm="conditional")
    with pytest.warns(UserWarning, match="too small"):  # 8 pixels high at painting_size 32: enlarged
        run = FS.train_fast_style(config, two_photos, settings, name="multi", vgg=vgg, progress_bar=False)
    assert run.net.num_styles == 2 and all(torch.isfinite(torch.tensor(run.history.step["total"])))
    out = FS.stylize(run.net, torch.rand(3, 20, 24), style=torch.tensor([0.5, 0.5]))
    assert out.shape == (3, 20, 24)


def test_adain_train_and_load(two_photos, settings, vgg):
    config = FS.AdaINConfig(photos=two_photos.tag, styles=("the_scream.jpg", "skimage:brick"), width=8,
                            crop=16, steps=2, steps_per_epoch=1)
    model, history = FS.train_adain(config, two_photos, settings, name="adain", vgg=vgg, progress_bar=False)
    assert len(history.step["total"]) == 2 and not model.decoder.training
    loaded, _ = FS.train_adain(config, two_photos, settings, name="adain", vgg=vgg, progress_bar=False)
    for a, b in zip(model.decoder.state_dict().values(), loaded.decoder.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a normal photo and painting give no warning
        out = FS.stylize_adain(loaded, torch.rand(3, 24, 24), [torch.rand(3, 40, 30)], alpha=0.5)
    assert out.shape == (3, 24, 24)
