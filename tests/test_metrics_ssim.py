"""SSIM (Wang et al. 2004) against scikit-image, on random images and on the course's content photo."""

import pytest
import torch
from skimage.metrics import structural_similarity

import course_utils as cu
from course_utils.metrics import image_similarity as sim


def _skimage_ssim(x, y):
    """scikit-image with the options of the paper: Gaussian window sigma 1.5, population statistics."""
    return structural_similarity(x.numpy(), y.numpy(), data_range=1.0, channel_axis=0,
                                 gaussian_weights=True, sigma=1.5, use_sample_covariance=False)


def test_ssim_matches_scikit_image_on_random_images():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 40, 33, generator=g, dtype=torch.float64)
    y = (0.7 * x + 0.3 * torch.rand(2, 3, 40, 33, generator=g, dtype=torch.float64)).clamp(0, 1)
    ours = sim.ssim(x, y)
    for i in range(2):
        assert ours[i].item() == pytest.approx(_skimage_ssim(x[i], y[i]), rel=1e-10)
    # the same in the [-1, 1] range, and for grey images
    torch.testing.assert_close(sim.ssim(x * 2 - 1, y * 2 - 1, value_range=(-1, 1)), ours)
    grey = sim.ssim(x[:, :1], y[:, :1])
    assert grey[0].item() == pytest.approx(_skimage_ssim(x[0, :1], y[0, :1]), rel=1e-10)
    assert sim.ssim(x, x).tolist() == pytest.approx([1.0, 1.0], rel=1e-12)
    assert sim.ssim_map(x, y).shape == (2, 3, 30, 23)  # the 11x11 window fits 30x23 times


def test_ssim_on_the_content_photo_orders_distortions(settings):
    photo = cu.load_image(cu.fetch_asset("tubingen.jpg", settings), max_side=96)[None]  # [1, 3, H, W]
    g = torch.Generator().manual_seed(1)
    noisy = (photo + 0.05 * torch.randn(photo.shape, generator=g)).clamp(0, 1)
    very_noisy = (photo + 0.2 * torch.randn(photo.shape, generator=g)).clamp(0, 1)
    brighter = (photo + 0.03).clamp(0, 1)
    scores = [sim.ssim(photo, other).item() for other in (brighter, noisy, very_noisy)]
    assert 1 > scores[0] > scores[1] > scores[2] > 0
    assert scores[1] == pytest.approx(_skimage_ssim(photo[0].double(), noisy[0].double()), rel=1e-6)


def test_ssim_errors_are_clear():
    with pytest.raises(ValueError, match="same shape"):
        sim.ssim(torch.rand(1, 3, 20, 20), torch.rand(1, 3, 20, 21))
    with pytest.raises(ValueError, match="img\\[None\\]"):
        sim.ssim(torch.rand(3, 20, 20), torch.rand(3, 20, 20))
    with pytest.raises(ValueError, match="smaller than the 11x11"):
        sim.ssim(torch.rand(1, 1, 8, 20), torch.rand(1, 1, 8, 20))
    with pytest.raises(ValueError, match="value_range"):
        sim.ssim(torch.rand(1, 1, 20, 20) * 255, torch.rand(1, 1, 20, 20) * 255)
