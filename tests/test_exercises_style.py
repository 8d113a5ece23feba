"""The checkers of notebook 02 accept the reference answers and reject wrong ones with a hint."""

import pytest

from course_utils.exercises import NotYet, style


def _gram(f):
    b, c, h, w = f.shape
    x = f.reshape(b, c, h * w)
    return x @ x.transpose(1, 2) / (h * w)


def test_gram_matrix():
    style.check_gram_matrix(_gram)
    with pytest.raises(NotYet, match="did not divide"):
        style.check_gram_matrix(lambda f: _gram(f) * f.shape[2] * f.shape[3])
    with pytest.raises(NotYet, match=r"C \* H \* W"):
        style.check_gram_matrix(lambda f: _gram(f) / f.shape[1])
    with pytest.raises(NotYet, match="one row per position"):
        style.check_gram_matrix(lambda f: f.flatten(2).transpose(1, 2) @ f.flatten(2))
    with pytest.raises(NotYet, match="whole batch"):
        style.check_gram_matrix(lambda f: _gram(f).sum(0))
    with pytest.raises(NotYet, match="values differ"):
        style.check_gram_matrix(lambda f: _gram(f) + 1)


def test_style_layer_loss():
    style.check_style_layer_loss(lambda g, a: ((g - a) ** 2).mean() / 4)
    with pytest.raises(NotYet, match="1/4"):
        style.check_style_layer_loss(lambda g, a: ((g - a) ** 2).mean())
    with pytest.raises(NotYet, match="summed"):
        style.check_style_layer_loss(lambda g, a: ((g - a) ** 2).sum())
    with pytest.raises(NotYet, match="reference gives"):
        style.check_style_layer_loss(lambda g, a: (g - a).abs().mean() / 4)
    with pytest.raises(NotYet, match="one number"):
        style.check_style_layer_loss(lambda g, a: (g - a) ** 2 / 4)


def test_total_variation():
    def tv(x):
        dy = (x[..., 1:, :] - x[..., :-1, :]).abs().sum()
        dx = (x[..., 1:] - x[..., :-1]).abs().sum()
        return (dx + dy) / x.numel()

    style.check_total_variation(tv)
    with pytest.raises(NotYet, match="one direction"):
        style.check_total_variation(lambda x: (x[..., 1:] - x[..., :-1]).abs().sum() / x.numel())
    with pytest.raises(NotYet, match="did not divide"):
        style.check_total_variation(lambda x: tv(x) * x.numel())
    with pytest.raises(NotYet, match="flat image"):
        style.check_total_variation(lambda x: x.abs().mean())
    with pytest.raises(NotYet, match="reference gives"):
        style.check_total_variation(lambda x: tv(x) ** 2)


def test_sizes_at_relu3_1():
    style.check_sizes_at_relu3_1(256 * 128 * 128, 256 * 256)
    with pytest.raises(NotYet, match="poolings"):
        style.check_sizes_at_relu3_1(256 * 512 * 512, 256 * 256)
    with pytest.raises(NotYet, match="whatever the image size"):
        style.check_sizes_at_relu3_1(256 * 128 * 128, 128 * 128 * 256 * 256)
