import dataclasses

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


TINY = dict(channels=(8, 16), hidden=32, epochs=2, batch_size=32, train_limit=512)


def test_train_classifier_trains_once_then_loads(settings, capsys):
    config = cu.classifier.ClassifierConfig(**TINY)
    model, hist = cu.classifier.train_classifier(config, settings, progress_bar=False)
    assert hist.epoch["test_acc"][-1] > 0.5  # 2 epochs on 512 real digits (measured 0.66-0.75), chance 10 %
    assert settings.checkpoint_path("mnist_classifier").is_file()
    capsys.readouterr()
    again, _ = cu.classifier.train_classifier(config, settings, progress_bar=False)
    assert "already trained" in capsys.readouterr().out
    x = torch.rand(8, 1, 28, 28)
    torch.testing.assert_close(model(x), again(x))
    assert not again.training


def test_an_edited_hyperparameter_is_never_loaded_silently(settings):
    """Changing a field of the config refuses the old checkpoint instead of loading it."""
    config = cu.classifier.ClassifierConfig(**TINY)
    cu.classifier.train_classifier(config, settings, progress_bar=False)
    edited = dataclasses.replace(config, lr=1e-3)
    with pytest.raises(cu.CheckpointError, match=r"(?s)other settings.*lr: saved 0.003, now 0.001"):
        cu.classifier.train_classifier(edited, settings, progress_bar=False)
    model, _ = cu.classifier.train_classifier(edited, settings, name="classifier_lr1e-3", progress_bar=False)
    assert settings.checkpoint_path("classifier_lr1e-3").is_file()


def test_zoo_uses_the_notebook_recipe(settings, monkeypatch):
    seen = {}
    monkeypatch.setattr(cu.classifier, "train_classifier",
                        lambda config, s, device, **kw: seen.update(config=config) or ("model", None))
    assert cu.zoo.mnist_classifier(settings, "cpu")[0] == "model"
    assert seen["config"] == cu.classifier.classifier_recipe(settings)
    assert seen["config"].epochs == 2 and seen["config"].train_limit == 8000  # smoke mode


def test_predict_gives_the_model_back_in_its_mode():
    model = cu.MnistClassifier().train()
    data = [(torch.rand(4, 1, 28, 28), torch.arange(4))]
    logits, labels = cu.predict(model, data)
    assert model.training and logits.shape == (4, 10) and labels.tolist() == [0, 1, 2, 3]
    model.eval()
    cu.evaluate(model, data)
    assert not model.training
