"""Every exercise checker accepts the reference answer and rejects wrong ones with a hint."""

import pytest
import torch
import torch.nn.functional as F

from course_utils.exercises import NotYet, cnn


def test_output_size():
    cnn.check_output_size(lambda n, k, padding=0, stride=1: (n + 2 * padding - k) // stride + 1)
    with pytest.raises(NotYet, match="Hint"):
        cnn.check_output_size(lambda n, k, padding=0, stride=1: n - k + 1)  # forgets padding and stride
    with pytest.raises(NotYet):
        cnn.check_output_size(lambda n, k, padding=0, stride=1: (n + 2 * padding - k) / stride + 1)


def test_avg_pool():
    cnn.check_avg_pool(lambda x: x.reshape(*x.shape[:2], x.shape[2] // 2, 2, x.shape[3] // 2, 2).mean((3, 5)))
    with pytest.raises(NotYet, match="shape"):
        cnn.check_avg_pool(lambda x: x)
    with pytest.raises(NotYet, match="values differ"):
        cnn.check_avg_pool(lambda x: F.max_pool2d(x, 2))


def test_conv_parameters():
    cnn.check_conv_parameters(16 * (3 * 5 * 5 + 1))
    with pytest.raises(NotYet, match="bias"):
        cnn.check_conv_parameters(16 * 3 * 5 * 5)


def test_horizontal_edge_kernel():
    cnn.check_horizontal_edge_kernel(torch.tensor([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]]))
    with pytest.raises(NotYet, match="vertical"):
        cnn.check_horizontal_edge_kernel(torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]) + torch.tensor(
            [[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]]))
    with pytest.raises(NotYet, match="flat"):
        cnn.check_horizontal_edge_kernel(torch.ones(3, 3) / 9)
    with pytest.raises(NotYet, match="3x3"):
        cnn.check_horizontal_edge_kernel(torch.zeros(2, 2))
