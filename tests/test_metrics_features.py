"""Feature extraction, and that the batch size changes no metric."""

import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils import metrics as M


@pytest.fixture(scope="module")
def classifier():
    torch.manual_seed(0)
    model = cu.MnistClassifier()
    model.train()  # extract_features must switch it to eval mode and back
    return model


@pytest.fixture(scope="module")
def images():
    g = torch.Generator().manual_seed(1)
    return torch.rand(230, 1, 28, 28, generator=g) ** 3


def test_default_features_are_the_classifier_embedding_in_eval_mode(classifier, images):
    features = M.extract_features(classifier, images)
    assert features.shape == (230, 128) and features.dtype == torch.float64 and features.device.type == "cpu"
    assert classifier.training  # handed back in the mode it came in
    classifier.eval()
    with torch.no_grad():
        expected = classifier.embed(images).double()
    classifier.train()
    torch.testing.assert_close(features, expected, rtol=1e-5, atol=1e-6)
    # the bound method and a lambda give the same; GAN samples in [-1, 1] are mapped first
    torch.testing.assert_close(M.extract_features(classifier.embed, images), features)
    torch.testing.assert_close(M.extract_features(classifier, images * 2 - 1, value_range=(-1, 1)), features,
                               rtol=1e-5, atol=1e-6)
    flat = M.extract_features(lambda x: x.flatten(1)[:, :5], images)
    torch.testing.assert_close(flat, images.flatten(1)[:, :5].double())

    class WithEmbeddingLayer(nn.Module):  # a layer called "embed" is not an embed() method
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 3)

        def forward(self, x):
            return x.flatten(1)[:, :2]

    torch.testing.assert_close(M.extract_features(WithEmbeddingLayer(), images), flat[:, :2])


def test_feature_extraction_errors_are_clear(classifier, images):
    with pytest.raises(ValueError, match=r"outside value_range=\(0, 1\)"):
        M.extract_features(classifier, images * 2 - 1)
    with pytest.raises(ValueError, match=r"\[N, C, H, W\]"):
        M.extract_features(classifier, images[0])
    with pytest.raises(ValueError, match="must return a tensor"):
        M.extract_features(lambda x: x.mean(), images)
    with pytest.raises(ValueError, match="NaN"):
        M.extract_features(lambda x: x.flatten(1) / 0 * 0, images)
    with pytest.raises(ValueError, match="value_range"):
        M.extract_features(classifier, images, value_range=(1, 0))


def test_batch_size_changes_no_metric(classifier, images):
    # Feature extraction in batches of 1, 3, 16 and all: the same features up to float32
    # rounding inside the network (different batch sizes can use different kernels).
    real, fake = images[:60], 1 - images[60:110]  # two clearly different sets
    one_by_one = M.extract_features(classifier, real[:10], batch_size=1)
    by_batch = {bs: (M.extract_features(classifier, real, batch_size=bs),
                     M.extract_features(classifier, fake, batch_size=bs)) for bs in (3, 16, 1000)}
    ref_real, ref_fake = by_batch[1000]
    torch.testing.assert_close(one_by_one, ref_real[:10], rtol=1e-5, atol=1e-6)
    both = torch.cat([real, fake])
    probs = {bs: M.class_probabilities(classifier, both, batch_size=bs) for bs in (3, 16, 1000)}
    ref_fid = M.fid(ref_real[:, :20], ref_fake[:, :20])  # N > D for a non-singular covariance
    ref_kid = M.kid(ref_real, ref_fake, subsets=10, subset_size=40)
    ref_pr = M.precision_recall(ref_real, ref_fake)
    ref_is = M.inception_score(probs[1000], splits=5)
    assert ref_fid > 0.01 and ref_kid.mean > 0
    for bs in (3, 16):
        f_real, f_fake = by_batch[bs]
        torch.testing.assert_close(f_real, ref_real, rtol=1e-5, atol=1e-6)
        assert M.fid(f_real[:, :20], f_fake[:, :20]) == pytest.approx(ref_fid, rel=1e-4)
        kid = M.kid(f_real, f_fake, subsets=10, subset_size=40)
        assert kid.mean == pytest.approx(ref_kid.mean, rel=1e-4)
        assert tuple(M.precision_recall(f_real, f_fake)) == tuple(ref_pr)
        assert M.inception_score(probs[bs], splits=5).mean == pytest.approx(ref_is.mean, rel=1e-5)
    for bs in (1, 7):  # the internal block sizes of the k-NN metrics
        assert tuple(M.precision_recall(ref_real, ref_fake, batch_size=bs)) == tuple(ref_pr)
        d_ref, i_ref = M.nearest_neighbours(fake, real)
        d, i = M.nearest_neighbours(fake, real, batch_size=bs)
        assert torch.equal(i, i_ref)
        torch.testing.assert_close(d, d_ref, rtol=1e-12, atol=0)


def test_a_module_on_another_device_is_used_there():
    class Where(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(1))

        def forward(self, x):
            assert x.device == self.w.device
            return x.flatten(1)[:, :3] * self.w

    device = cu.get_device(verbose=False)
    module = Where().to(device)
    out = M.extract_features(module, torch.rand(4, 1, 28, 28))
    assert out.device.type == "cpu" and out.dtype == torch.float64
