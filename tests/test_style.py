"""Notebook 02's style transfer (course_utils.style, generated) and its infrastructure (style_inputs,
style_log, fast_gram): losses against explicit loops, colour control, style_transfer on good and bad input."""

import io
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import course_utils as cu
from course_utils import fast_gram, style_inputs, style_log
from course_utils import style as S
from course_utils import vgg as V


@pytest.fixture(scope="module")
def net():
    return V.vgg19(last_layer="relu5_1")


def _photo(name="astronaut", size=48):
    from skimage import data

    x = torch.from_numpy(getattr(data, name)()).permute(2, 0, 1).float() / 255
    return S.resize(x, size)


# ------------------------------------------------------------------ losses against loops


def test_content_loss_against_a_loop():
    f, p = torch.randn(1, 4, 3, 5), torch.randn(1, 4, 3, 5)
    total = 0.0
    for i in range(4):
        for y in range(3):
            for x in range(5):
                total += (f[0, i, y, x] - p[0, i, y, x]).item() ** 2
    assert S.content_loss(f, p).item() == pytest.approx(total / (4 * 15), rel=1e-6)
    with pytest.raises(ValueError, match="differ in shape"):
        S.content_loss(f, p[:, :3])


def test_gram_matrix_against_a_loop():
    f = torch.randn(2, 3, 4, 5)
    g = S.gram_matrix(f)
    assert g.shape == (2, 3, 3)
    for b in range(2):
        for i in range(3):
            for j in range(3):
                s = sum(f[b, i, y, x].item() * f[b, j, y, x].item() for y in range(4) for x in range(5))
                assert g[b, i, j].item() == pytest.approx(s / 20, rel=1e-5, abs=1e-6)
    torch.testing.assert_close(S.gram_matrix(f[0]), g[0])
    torch.testing.assert_close(S.gram_matrix(f.to(memory_format=torch.channels_last)), g)
    with pytest.raises(ValueError, match="feature maps"):
        S.gram_matrix(torch.randn(3, 4))


def test_gram_loss_is_gatys_style_term():
    """E_l = 1 / (4 N^2 M^2) sum (G - A)^2 with the raw Gram matrices G = F F^T, as in Gatys et al."""
    f, s = torch.randn(1, 6, 4, 4), torch.randn(1, 6, 4, 4)
    n, m = 6, 16
    g_raw, a_raw = f[0].reshape(n, m) @ f[0].reshape(n, m).T, s[0].reshape(n, m) @ s[0].reshape(n, m).T
    total = sum((g_raw[i, j] - a_raw[i, j]).item() ** 2 for i in range(n) for j in range(n))
    e = S.gram_loss(S.gram_matrix(f), S.gram_matrix(s)[0])
    assert e.item() == pytest.approx(total / (4 * n**2 * m**2), rel=1e-5)


def test_style_loss_is_the_weighted_sum_of_layers():
    grams = {"relu1_1": torch.randn(1, 3, 3), "relu2_1": torch.randn(1, 5, 5)}
    targets = {"relu1_1": torch.randn(3, 3), "relu2_1": torch.randn(5, 5)}
    w = {"relu1_1": 0.3, "relu2_1": 2.0}
    expected = 0.0
    for name, wl in w.items():
        n = grams[name].shape[-1]
        expected += wl * sum((grams[name][0, i, j] - targets[name][i, j]).item() ** 2
                             for i in range(n) for j in range(n)) / (4 * n * n)
    assert S.style_loss(grams, targets, w).item() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="at least one style layer"):
        S.style_loss(grams, targets, {})


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_total_variation_against_a_loop(power):
    x = torch.randn(2, 3, 4, 5)
    total = 0.0
    for b in range(2):
        for c in range(3):
            for i in range(4):
                for j in range(5):
                    if i + 1 < 4:
                        total += abs(x[b, c, i + 1, j] - x[b, c, i, j]).item() ** power
                    if j + 1 < 5:
                        total += abs(x[b, c, i, j + 1] - x[b, c, i, j]).item() ** power
    assert S.total_variation(x, power).item() == pytest.approx(total / (2 * 3 * 4 * 5), rel=1e-5)
    assert S.total_variation(torch.full((3, 6, 6), 0.3)).item() == 0.0


def test_losses_have_gradients_for_the_image(net):
    x = _photo(size=32)[None].requires_grad_(True)
    feats = net(x, ["relu2_1"])
    loss = S.gram_loss(S.gram_matrix(feats["relu2_1"]), torch.zeros(128, 128))
    loss.backward()
    assert x.grad.abs().sum() > 0


# ------------------------------------------------------------------ colour


def test_yiq_round_trip_and_luminance():
    x = torch.rand(3, 8, 9)
    torch.testing.assert_close(S.yiq_to_rgb(S.rgb_to_yiq(x)), x, rtol=1e-5, atol=1e-5)
    gray = torch.full((3, 2, 2), 0.4)
    yiq = S.rgb_to_yiq(gray)
    torch.testing.assert_close(yiq[0], gray[0])
    torch.testing.assert_close(yiq[1:], torch.zeros(2, 2, 2), atol=1e-6, rtol=0)


def test_match_luminance_moves_mean_and_std():
    s, c = torch.rand(1, 10, 10) * 0.2, torch.rand(1, 12, 8) * 0.6 + 0.2
    m = S.match_luminance(s, c)
    assert m.mean().item() == pytest.approx(c.mean().item(), abs=1e-5)
    assert m.std().item() == pytest.approx(c.std().item(), rel=1e-4)


def test_colour_histogram_matching_gives_the_content_colour_statistics():
    gen = torch.Generator().manual_seed(0)
    mix = torch.tensor([[0.1, 0.02, 0.0], [0.03, 0.08, 0.01], [0.0, 0.02, 0.05]])
    style = mix @ torch.randn(3, 4000, generator=gen) + torch.tensor([[0.3], [0.5], [0.6]])
    style = style.reshape(3, 40, 100)
    content = (mix.T @ torch.randn(3, 3000, generator=gen) + 0.5).reshape(3, 50, 60)
    out = S.match_color_histogram(style, content, eps=0.0)
    assert out.shape == style.shape
    p, q = out.reshape(3, -1).double(), content.reshape(3, -1).double()
    torch.testing.assert_close(p.mean(1), q.mean(1), atol=1e-3, rtol=0)
    torch.testing.assert_close(torch.cov(p, correction=0), torch.cov(q, correction=0), atol=2e-4, rtol=0)


def test_colour_histogram_matching_of_a_grayscale_painting_is_finite():
    gray = torch.rand(1, 20, 30).expand(3, -1, -1)
    out = S.match_color_histogram(gray, _photo())
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


# ------------------------------------------------------------------ style_transfer


def test_style_transfer_lowers_the_loss_and_returns_a_valid_image(net):
    content, style = _photo("astronaut", 64), _photo("coffee", 64)
    r = S.style_transfer(content, style, net, size=48, steps=15, progress_bar=False)
    assert r.image.shape == (3, 48, 48) and r.image.dtype == torch.float32
    assert r.image.min() >= 0 and r.image.max() <= 1
    h = r.history
    assert 15 + 1 <= len(h["total"]) <= 15 * 5 // 4 + 1  # one per evaluation, then the returned image
    assert h["total"][-1] < 0.3 * h["total"][0]
    assert h["content"][0] == 0.0 and h["content"][-1] > 0  # it starts at the content photo
    assert h["time_s"] == sorted(h["time_s"])
    alpha, beta = r.config["content_weight"], r.config["style_weight"]
    assert h["total"][3] == pytest.approx(alpha * h["content"][3] + beta * h["style"][3], rel=1e-4)


def test_adam_and_noise_start(net):
    content, style = _photo("astronaut", 40), _photo("coffee", 40)
    r = S.style_transfer(content, style, net, size=32, steps=20, optimizer="adam", lr=0.05, init="noise",
                         progress_bar=False, seed=3)
    assert r.history["total"][-1] < 0.5 * r.history["total"][0]
    again = S.style_transfer(content, style, net, size=32, steps=2, optimizer="adam", init="noise",
                             progress_bar=False, seed=3)
    assert again.history["total"][0] == r.history["total"][0]  # the same seed gives the same noise


def test_blended_styles_blend_the_gram_targets(net):
    content, a, b = _photo("astronaut", 32), _photo("coffee", 32), _photo("chelsea", 32)
    obj = S.StyleLoss(net, content, [a, b], [0.25, 0.75])
    for layer in S.GATYS_STYLE_LAYERS:
        ga = S.gram_matrix(net(a[None], [layer])[layer])[0]
        gb = S.gram_matrix(net(b[None], [layer])[layer])[0]
        torch.testing.assert_close(obj.gram_targets[layer], 0.25 * ga + 0.75 * gb)
    with pytest.raises(ValueError, match="blend weights"):
        S.style_transfer(content, [a, b], net, style_blend=[1.0], steps=1, progress_bar=False)
    with pytest.raises(ValueError, match="blend weights"):
        S.style_transfer(content, [a, b], net, style_blend=[-1.0, 2.0], steps=1, progress_bar=False)


def test_different_sizes_and_aspect_ratios_work(net):
    content = torch.rand(3, 40, 70)
    style = torch.rand(3, 120, 35)
    r = S.style_transfer(content, style, net, size=64, steps=3, progress_bar=False)
    assert r.image.shape == (3, round(40 * 64 / 70), 64)
    r = S.style_transfer(content, style, net, size=None, steps=2, progress_bar=False, style_scale=0.8)
    assert r.image.shape == (3, 40, 70)


def test_paintings_of_other_shapes_and_a_blend_of_them(net):
    content = _photo(size=48)
    tall, wide = torch.rand(3, 90, 30), torch.rand(3, 30, 90)  # 48 px on the long side: 16 on the short
    r = S.style_transfer(content, [tall, wide], net, size=48, steps=3, progress_bar=False)
    assert r.image.shape == (3, 48, 48) and torch.isfinite(r.image).all()
    tiny_style = torch.rand(3, 3, 4)  # far below what relu5_1 needs: resized like any painting
    r = S.style_transfer(content, tiny_style, net, size=48, steps=3, progress_bar=False)
    assert r.image.shape == (3, 48, 48) and torch.isfinite(r.image).all()
    with pytest.warns(UserWarning, match="style image 0 .* too small"):  # 200x4 -> 48x1 would be too thin
        S.style_transfer(content, torch.rand(3, 4, 200), net, size=48, steps=1, progress_bar=False)


def test_a_grayscale_painting_works(net, tmp_path):
    gray = (np.linspace(0, 255, 50 * 60).reshape(50, 60) % 97).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(gray, mode="L").save(buf, format="PNG")
    loaded = cu.load_image(buf.getvalue())  # the loader makes it RGB
    one_channel = torch.from_numpy(gray).float()[None] / 255  # and a [1, H, W] tensor works too
    for style in (loaded, one_channel):
        for preserve in (None, "histogram", "luminance"):
            r = S.style_transfer(_photo(), style, net, size=32, steps=3, progress_bar=False,
                                 preserve_color=preserve)
            assert torch.isfinite(r.image).all() and r.image.shape == (3, 32, 32)


def test_style_weight_zero_keeps_the_photo(net):
    content = _photo(size=32)
    r = S.style_transfer(content, None, net, style_weight=0.0, steps=5, size=32, progress_bar=False)
    torch.testing.assert_close(r.image, content)
    assert set(r.history["style"]) == {0.0} and r.history["total"][-1] == 0.0
    r = S.style_transfer(content, _photo("coffee"), net, style_weight=0.0, steps=20, size=32, init="noise",
                         progress_bar=False)
    assert r.history["total"][-1] < 0.3 * r.history["total"][0]  # a plain reconstruction from noise


def test_content_weight_zero_is_texture_synthesis(net):
    style = _photo("coffee", 40)
    r = S.style_transfer(None, style, net, content_weight=0.0, size=32, steps=60, progress_bar=False)
    assert r.image.shape == (3, 22, 32) and set(r.history["content"]) == {0.0}  # the painting's aspect
    assert r.history["total"][-1] < 0.2 * r.history["total"][0]
    with pytest.raises(ValueError, match="content is None"):
        S.style_transfer(None, style, net, steps=1, progress_bar=False)


def test_a_tiny_image_is_upscaled_with_a_warning(net):
    tiny = torch.rand(3, 6, 9)
    with pytest.warns(UserWarning, match="too small for VGG's deepest layer"):
        r = S.style_transfer(tiny, torch.rand(3, 8, 8), net, size=None, steps=2, progress_bar=False)
    assert min(r.image.shape[1:]) == 16  # relu5_1 needs 16 pixels
    with pytest.warns(UserWarning) as caught:
        S.style_transfer(_photo(), _photo("coffee"), net, size=10, steps=1, progress_bar=False)
    assert any("content image (48x48 pixels, asked for 10 px)" in str(w.message) for w in caught)
    # with shallow layers only, small images are fine
    r = S.style_transfer(tiny, torch.rand(3, 8, 8), net, size=None, steps=2, progress_bar=False,
                         content_layers=["relu1_1"], style_layers=["relu1_1", "relu2_1"])
    assert r.image.shape == (3, 6, 9)


def test_nan_losses_are_reported_not_returned_as_a_black_image(net):
    content, style = _photo(size=32), _photo("coffee", 32)
    # beta * E_l overflows float32
    with pytest.raises(style_log.NonFiniteLossError, match="too large") as info:
        S.style_transfer(content, style, net, size=32, style_weight=1e38, steps=5, progress_bar=False)
    good = info.value.last_good_image
    assert good.shape == (3, 32, 32) and torch.isfinite(good).all()
    with pytest.raises(style_log.NonFiniteLossError, match="diverged") as info:  # a wild first step
        S.style_transfer(content, style, net, size=32, lr=1e30, steps=5, progress_bar=False)
    good = info.value.last_good_image
    torch.testing.assert_close(good, content)  # the last finite image was the start
    with pytest.raises(style_log.NonFiniteLossError, match="too large"):  # Adam checks every step too
        S.style_transfer(content, style, net, size=32, style_weight=1e38, steps=5, optimizer="adam",
                         progress_bar=False)
    with pytest.raises(ValueError, match="content image contains NaN"):
        S.style_transfer(torch.full((3, 32, 32), math.nan), style, net, steps=1, progress_bar=False)
    broken = style.clone()
    broken[0, 3, 4] = math.inf
    with pytest.raises(ValueError, match="style image 0 contains NaN or infinite"):
        S.style_transfer(content, broken, net, steps=1, progress_bar=False)


def test_bad_settings_get_clear_errors(net):
    c, s = _photo(size=32), _photo("coffee", 32)
    cases = [
        (dict(content_weight=0, style_weight=0), "nothing to optimise"),
        (dict(style_weight=-1), "finite and >= 0"),
        (dict(optimizer="sgd"), "optimizer"),
        (dict(preserve_color="sepia"), "preserve_color"),
        (dict(init="zeros"), "init"),
        (dict(style_layers=["relu6_1"]), "unknown style layer"),
        (dict(num_scales=2, steps=[5]), "one per scale"),
        (dict(lr=0.0), "lr"),
    ]
    for kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            S.style_transfer(c, s, net, progress_bar=False, **{"steps": 1, **kwargs})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        S.style_transfer(c * 255, s, net, steps=1, progress_bar=False)
    with pytest.raises(ValueError, match="styles is None"):
        S.style_transfer(c, None, net, steps=1, progress_bar=False)
    with pytest.raises(TypeError, match="load_image"):
        S.style_transfer("photo.jpg", s, net, steps=1, progress_bar=False)


def test_luminance_only_transfer_keeps_the_photo_colours(net):
    content, style = _photo("astronaut", 40), _photo("coffee", 40)
    r = S.style_transfer(content, style, net, size=40, steps=10, preserve_color="luminance",
                         progress_bar=False)
    iq_out, iq_in = S.rgb_to_yiq(r.image)[1:], S.rgb_to_yiq(content)[1:]
    assert (iq_out - iq_in).abs().mean() < 0.01  # only clipping to [0, 1] changes the colour
    plain = S.style_transfer(content, style, net, size=40, steps=10, progress_bar=False)
    assert (S.rgb_to_yiq(plain.image)[1:] - iq_in).abs().mean() > 3 * (iq_out - iq_in).abs().mean()


def test_coarse_to_fine(net):
    r = S.style_transfer(_photo(size=64), _photo("coffee"), net, size=64, steps=[6, 3], num_scales=2,
                         progress_bar=False)
    assert r.image.shape == (3, 64, 64)
    scales = r.history["scale"]
    assert scales == sorted(scales) and 6 <= scales.count(0) <= 7 and 4 <= scales.count(1) <= 5


def test_callback_gets_intermediate_images(net):
    seen = []
    r = S.style_transfer(_photo(size=32), _photo("coffee"), net, size=32, steps=9, progress_bar=False,
                         callback=lambda i, img: seen.append((i, tuple(img.shape), img.min(), img.max())),
                         callback_every=3)
    evaluations = len(r.history["total"]) - 1
    assert [s[0] for s in seen] == list(range(3, evaluations + 1, 3))
    assert all(s[1] == (3, 32, 32) and s[2] >= 0 and s[3] <= 1 for s in seen)


def test_resize_keeps_the_aspect_ratio():
    x = torch.rand(3, 30, 60)
    assert S.resize(x, 20).shape == (3, 10, 20)
    assert S.resize(x, None) is x
    with pytest.warns(UserWarning):
        assert S.resize(x, 20, min_side=16).shape == (3, 16, 32)
    y = F.interpolate(x[None], scale_factor=0.5, mode="bicubic", antialias=True)[0]
    assert y.shape == S.resize(x, 30).shape


@pytest.mark.parametrize("channels_last", [False, True])
def test_fused_gram_loss_equals_the_composition_and_its_gradient(channels_last):
    gen = torch.Generator().manual_seed(0)
    f = torch.randn(2, 5, 4, 6, generator=gen, dtype=torch.float64).relu()
    if channels_last:
        f = f.contiguous(memory_format=torch.channels_last)
    a = S.gram_matrix(torch.randn(1, 5, 3, 3, generator=gen, dtype=torch.float64))[0]
    f1 = f.clone().requires_grad_(True)
    f2 = f.clone().requires_grad_(True)
    e1 = S.gram_loss(S.gram_matrix(f1), a)
    e2 = fast_gram.gram_loss_from_features(f2, a)
    torch.testing.assert_close(e2, e1)
    (3 * e1).backward()
    (3 * e2).backward()
    torch.testing.assert_close(f2.grad, f1.grad)
    x = f.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: fast_gram.gram_loss_from_features(x, a), (x,))
    with pytest.raises(ValueError, match="do not match"):
        fast_gram.gram_loss_from_features(f, a[:3, :3])


def test_style_loss_object_matches_the_pure_functions(net):
    content, style = _photo("astronaut", 48), _photo("coffee", 48)
    loss = S.StyleLoss(net, content, [style], tv_weight=10.0)
    x = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    got = loss(x)
    feats = net(x, V.LAYERS[: V.LAYERS.index("relu5_1") + 1])
    targets = {n: S.gram_matrix(f)[0] for n, f in net(style[None], list(S.GATYS_STYLE_LAYERS)).items()}
    expected_style = S.style_loss({n: S.gram_matrix(feats[n]) for n in S.GATYS_STYLE_LAYERS}, targets,
                                  S.GATYS_STYLE_LAYERS)
    expected_content = S.content_loss(feats["relu4_2"], net(content[None], ["relu4_2"])["relu4_2"])
    torch.testing.assert_close(got["style"], expected_style, rtol=1e-4, atol=0)
    torch.testing.assert_close(got["content"], expected_content, rtol=1e-4, atol=0)
    torch.testing.assert_close(got["total"], got["content"] + S.DEFAULT_STYLE_WEIGHT * got["style"]
                               + 10.0 * S.total_variation(x), rtol=1e-5, atol=0)


def test_style_loss_object_without_style_or_content(net):
    content = _photo("astronaut", 32)
    only_content = S.StyleLoss(net, content, [], content_layers={"relu2_1": 1.0}, style_weight=0.0)
    assert only_content(content[None])["total"].item() == 0.0
    only_style = S.StyleLoss(net, None, [content], content_weight=0.0)
    assert only_style(content[None])["style"].item() == pytest.approx(0.0, abs=1e-3)
    with pytest.raises(ValueError, match="no style image"):
        S.StyleLoss(net, content, [])


def test_style_strength_is_the_style_loss_of_a_featureless_image(net):
    style = _photo("coffee", 48)
    grams = {n: S.gram_matrix(f)[0] for n, f in net(style[None], list(S.GATYS_STYLE_LAYERS)).items()}
    expected = sum(w * 0.25 * (grams[n] ** 2).mean() for n, w in S.GATYS_STYLE_LAYERS.items())
    assert S.style_strength(net, style) == pytest.approx(float(expected), rel=1e-5)
    gray = S.rgb_to_yiq(style)[:1].expand(3, -1, -1)
    assert S.style_strength(net, gray) < S.style_strength(net, style)


# ------------------------------------------------------------------ the fused style term follows the notebook


def test_style_term_is_fused_only_while_it_equals_the_taught_functions():
    assert fast_gram.style_term(S.gram_matrix, S.gram_loss) is fast_gram.gram_loss_from_features
    f, a = torch.rand(1, 3, 4, 5), S.gram_matrix(torch.rand(3, 6, 2))

    def unnormalised(features):  # a learner drops the 1 / M of the Gram matrix
        return S.gram_matrix(features) * features.shape[2] * features.shape[3]

    term = fast_gram.style_term(unnormalised, S.gram_loss)
    assert term is not fast_gram.gram_loss_from_features
    torch.testing.assert_close(term(f, a), S.gram_loss(unnormalised(f), a))
    term = fast_gram.style_term(S.gram_matrix, lambda g, t: (g - t).pow(2).mean())  # no 1/4
    torch.testing.assert_close(term(f, a), 4 * fast_gram.gram_loss_from_features(f, a))

    def unfinished(features):  # the student notebook's blank exercise
        raise NotImplementedError("Exercise: write it")

    with pytest.raises(NotImplementedError, match="Exercise"):
        fast_gram.style_term(unfinished, S.gram_loss)(f, a)


def test_an_edited_gram_matrix_changes_style_loss_and_style_transfer(net, monkeypatch):
    """What notebook 02 promises: edit the Gram matrix cell and the loss and the result follow the edit."""
    content, style = _photo("astronaut", 32), _photo("coffee", 32)
    before = S.StyleLoss(net, content, [style])(content[None])["style"]
    r_before = S.style_transfer(content, style, net, size=32, steps=3, progress_bar=False)
    taught = S.gram_matrix
    monkeypatch.setattr(S, "gram_matrix", lambda f: taught(f) * f.shape[-1] * f.shape[-2])
    loss = S.StyleLoss(net, content, [style])
    assert loss.style_term is not fast_gram.gram_loss_from_features
    after = loss(content[None])["style"]
    # E_l grows with M_l^2 at each layer: at least by (the smallest M_l)^2 = (2 x 2)^2 at relu5_1
    assert after > 16 * before
    r_after = S.style_transfer(content, style, net, size=32, steps=3, progress_bar=False)
    assert r_after.history["style"][0] > 16 * r_before.history["style"][0]
    assert not torch.allclose(r_after.image, r_before.image)


# ------------------------------------------------------------------ memory


def test_a_size_that_cannot_fit_is_refused_before_allocating(net, monkeypatch):
    monkeypatch.setattr(style_inputs, "available_memory", lambda device: 4 * 10**9)
    huge = torch.zeros(3, 1, 1).expand(3, 5000, 5000)  # a 5000 x 5000 photo that takes no memory
    message = r"5000x5000 pixels would need about \d+\.\d GB .* only 4\.0 GB .* size=\d+"
    with pytest.raises(style_inputs.NotEnoughMemoryError, match=message) as info:
        S.style_transfer(huge, _photo("coffee", 32), net, size=None, steps=1, progress_bar=False)
    assert isinstance(info.value, MemoryError)
    fits = int(re.search(r"size=(\d+)", str(info.value))[1])
    assert 512 <= fits < 5000 and style_inputs.estimate_memory((fits, fits), "relu5_1") <= 4e9
    with pytest.raises(style_inputs.NotEnoughMemoryError):  # size=4000 on the same photo: still too large
        S.style_transfer(huge, _photo("coffee", 32), net, size=4000, steps=1, progress_bar=False)
    r = S.style_transfer(_photo(size=32), _photo("coffee", 32), net, size=32, steps=1, progress_bar=False)
    assert r.image.shape == (3, 32, 32)  # small sizes pass


def test_memory_estimate_covers_what_autograd_keeps(net):
    """Against a measurement: the bytes autograd saves for the backward pass of a real loss evaluation."""
    params = {p.untyped_storage().data_ptr() for p in net.parameters()}

    def saved_bytes(h, w):
        content = torch.rand(3, h, w, generator=torch.Generator().manual_seed(0))
        loss = S.StyleLoss(net, content, [content], tv_weight=1.0)
        x = content[None].clone().requires_grad_(True)
        seen = {}

        def pack(t):
            ptr = t.untyped_storage().data_ptr()
            if ptr not in params:
                seen[ptr] = t.untyped_storage().nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss(x)["total"]
        return sum(seen.values())

    (h1, w1), (h2, w2) = (32, 48), (64, 96)
    measured = saved_bytes(h2, w2) - saved_bytes(h1, w1)  # per-pixel part: the Gram targets cancel
    estimated = (style_inputs.estimate_memory((h2, w2), "relu5_1", "adam")
                 - style_inputs.estimate_memory((h1, w1), "relu5_1", "adam"))
    assert measured < estimated < 2.5 * measured
    assert style_inputs.estimate_memory((64, 64), "relu5_1", "lbfgs") > style_inputs.estimate_memory(
        (64, 64), "relu5_1", "adam") > style_inputs.estimate_memory((64, 64), "relu2_1", "adam")


def test_available_memory_is_a_plausible_number():
    free = style_inputs.available_memory("cpu")
    assert free is None or 10**7 < free < 10**14
    assert style_inputs.available_memory("meta") is None


# ------------------------------------------------------------------ settings and scales


def test_settings_are_checked_and_normalised():
    config = S.StyleTransferConfig(style_layers=["relu1_1", "relu2_1"], steps=[3, 4], num_scales=2)
    assert config.style_layers == {"relu1_1": 0.5, "relu2_1": 0.5} and config.steps == (3, 4)
    assert config.lr == 1.0 and S.StyleTransferConfig(optimizer="adam").lr == 0.02
    assert config.deepest_layer() == "relu4_2" and config.min_side() == 8
    texture = S.StyleTransferConfig(content_weight=0.0)
    assert texture.content_layers == {} and texture.deepest_layer() == "relu5_1"
    with pytest.raises(TypeError, match="stlye_weight"):
        S.style_transfer(_photo(), _photo("coffee"), None, stlye_weight=1.0)
    with pytest.raises(ValueError, match="style_scale"):
        S.StyleTransferConfig(style_scale=0)


def test_scale_sizes_go_coarse_to_fine():
    assert S.scale_sizes((96, 128), 3) == [(24, 32), (48, 64), (96, 128)]
    assert S.scale_sizes((96, 128), 1) == [(96, 128)]
    assert S.scale_sizes((20, 40), 3, min_side=16) == [(16, 16), (16, 20), (20, 40)]
