"""The checkers of notebook 07 accept the reference answers and reject wrong ones with a hint."""

import pytest
import torch
import torch.nn.functional as F

from course_utils.exercises import NotYet, fast_style


def _stats(x, dims=(2, 3), correction=0):
    var, mean = torch.var_mean(x, dim=dims, keepdim=True, correction=correction)
    return mean, (var + 1e-5).sqrt()


def _adain(x, y):
    (mx, sx), (my, sy) = _stats(x), _stats(y)
    return sy * (x - mx) / sx + my


def _norm(dims, correction=0):
    return lambda x, eps=1e-5: (x - _stats(x, dims)[0]) / _stats(x, dims, correction)[1]


def test_instance_norm():
    fast_style.check_instance_norm(lambda x, eps=1e-5: F.instance_norm(x, eps=eps))
    fast_style.check_instance_norm(lambda x, eps=1e-5: (x - _stats(x)[0]) / _stats(x)[1])
    with pytest.raises(NotYet, match="batch normalisation"):
        fast_style.check_instance_norm(_norm((0, 2, 3)))
    with pytest.raises(NotYet, match="layer normalisation"):
        fast_style.check_instance_norm(_norm((1, 2, 3)))
    with pytest.raises(NotYet, match="unbiased"):
        fast_style.check_instance_norm(_norm((2, 3), correction=1))
    with pytest.raises(NotYet, match="shape"):
        fast_style.check_instance_norm(lambda x, eps=1e-5: x.mean())
    with pytest.raises(NotYet, match="differ"):
        fast_style.check_instance_norm(lambda x, eps=1e-5: x - _stats(x)[0])


def test_adain():
    fast_style.check_adain(_adain)
    with pytest.raises(NotYet, match="swapped"):
        fast_style.check_adain(lambda x, y: _adain(y, x))
    with pytest.raises(NotYet, match="no style statistics"):
        fast_style.check_adain(lambda x, y: (x - _stats(x)[0]) / _stats(x)[1])
    with pytest.raises(NotYet, match="whole tensor"):
        fast_style.check_adain(lambda x, y: y.std() * (x - x.mean()) / x.std() + y.mean())
    with pytest.raises(NotYet, match="standard deviations"):
        fast_style.check_adain(lambda x, y: _stats(y)[1] ** 2 * (x - _stats(x)[0]) / _stats(x)[1] ** 2
                               + _stats(y)[0])
    with pytest.raises(NotYet, match="differ"):
        fast_style.check_adain(lambda x, y: _adain(x, y) + 0.1 * x)


def test_blend_weights():
    def right(t, n, a, b):
        w = torch.zeros(n)
        w[a] += 1 - t
        w[b] += t
        return w

    def overwrites(t, n, a, b):
        w = torch.zeros(n)
        w[a] = 1 - t
        w[b] = t
        return w

    fast_style.check_blend_weights(right)
    with pytest.raises(NotYet, match="a == b"):
        fast_style.check_blend_weights(overwrites)
    with pytest.raises(NotYet, match="entries"):
        fast_style.check_blend_weights(lambda t, n, a, b: torch.tensor([1 - t, t]))
    with pytest.raises(NotYet, match="expected"):
        fast_style.check_blend_weights(lambda t, n, a, b: right(1 - t, n, a, b))


def test_side_multiple():
    fast_style.check_side_multiple(8)
    with pytest.raises(NotYet, match="multiply"):
        fast_style.check_side_multiple(6)
    with pytest.raises(NotYet, match="not it"):
        fast_style.check_side_multiple(4)
