import pytest
import torch

import course_utils as cu


def test_classifier_shapes_and_parameter_count():
    m = cu.MnistClassifier()
    x = torch.rand(4, 1, 28, 28)
    assert m(x).shape == (4, 10)
    assert m.embed(x).shape == (4, 128)
    assert cu.count_parameters(m) == sum(p.numel() for p in m.parameters())
    # conv1 (no bias) + BN + conv2 + BN + fc1 + fc2
    expected = (1 * 32 * 9 + 2 * 32) + (32 * 64 * 9 + 2 * 64) + (64 * 49 * 128 + 128) + (128 * 10 + 10)
    assert cu.count_parameters(m) == expected


def test_classifier_standardises_its_own_input():
    m = cu.MnistClassifier().eval()
    x = torch.rand(2, 1, 28, 28)
    ref = m.features[0]((x - 0.1307) / 0.3081)
    torch.testing.assert_close(m.features[0]((x - m.mean) / m.std), ref)


def test_classifier_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\[B, 1, 28, 28\]"):
        cu.MnistClassifier()(torch.rand(2, 3, 28, 28))


def test_zoo_trains_once_then_loads(settings, capsys):
    device = torch.device("cpu")
    model, hist = cu.zoo.mnist_classifier(settings, device, progress_bar=False)
    assert hist.epoch["test_acc"][-1] > 0.95  # 2 smoke epochs on 8,000 digits
    assert settings.checkpoint_path("mnist_classifier").is_file()
    capsys.readouterr()
    again, hist2 = cu.zoo.mnist_classifier(settings, device, progress_bar=False)
    assert "already trained" in capsys.readouterr().out
    x = torch.rand(8, 1, 28, 28)
    torch.testing.assert_close(model(x), again(x))
    assert not again.training
