"""Hand-written convolution and max pooling against torch.nn.functional."""

import pytest
import torch
import torch.nn.functional as F

from course_utils import ops


@pytest.mark.parametrize("c,f,k", [(1, 1, 3), (3, 4, 3), (2, 3, 5)])
def test_conv2d_by_hand_matches_F_conv2d(c, f, k):
    gen = torch.Generator().manual_seed(c * 10 + k)
    image = torch.randn(c, 9, 11, generator=gen, dtype=torch.float64)
    weight = torch.randn(f, c, k, k, generator=gen, dtype=torch.float64)
    bias = torch.randn(f, generator=gen, dtype=torch.float64)
    ref = F.conv2d(image[None], weight, bias)[0]
    torch.testing.assert_close(ops.conv2d_loops(image, weight, bias), ref)
    torch.testing.assert_close(ops.conv2d_vectorized(image[None], weight, bias)[0], ref)
    no_bias = F.conv2d(image[None], weight)[0]
    torch.testing.assert_close(ops.conv2d_vectorized(image[None], weight)[0], no_bias)


def test_conv2d_loops_rejects_mismatched_channels():
    with pytest.raises(ValueError, match="channels"):
        ops.conv2d_loops(torch.zeros(3, 5, 5), torch.zeros(1, 2, 3, 3))


@pytest.mark.parametrize("k,h,w", [(2, 8, 8), (2, 7, 9), (3, 9, 6)])
def test_max_pool_by_hand_matches_F_max_pool2d(k, h, w):
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(k + h))
    ref = F.max_pool2d(x, k)
    torch.testing.assert_close(ops.max_pool2d_vectorized(x, k), ref)
    torch.testing.assert_close(ops.max_pool2d_loops(x[1], k), ref[1])
