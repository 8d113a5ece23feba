"""Plotting helpers draw what they are given, in the stated pixel range."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402

import course_utils as cu  # noqa: E402


@pytest.fixture(autouse=True)
def _keep_figures(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)  # keep the figure open for inspection
    yield
    plt.close("all")


def test_show_images_draws_the_make_grid_of_a_batch():
    batch = torch.rand(6, 1, 28, 28) * 2 - 1
    cu.show_images(batch, value_range=(-1, 1), nrow=3)
    shown = plt.gcf().axes[0].images[0].get_array()
    ref = make_grid((batch + 1) / 2, nrow=3, padding=2, pad_value=1.0).permute(1, 2, 0).numpy()
    assert shown.shape == ref.shape
    assert abs(shown - ref).max() < 1e-6


def test_show_images_with_titles_uses_one_panel_each():
    cu.show_images([torch.rand(3, 10, 20), torch.rand(3, 30, 15)], titles=["a", "b"], nrow=2)
    axes = plt.gcf().axes
    assert [ax.get_title() for ax in axes] == ["a", "b"]
    with pytest.raises(ValueError, match="titles"):
        cu.show_images(torch.rand(3, 1, 8, 8), titles=["only one"])
    with pytest.raises(ValueError, match="value_range"):
        cu.show_images(torch.rand(1, 1, 8, 8), value_range=(1, 0))


def test_plot_history_and_confusion_matrix():
    h = cu.History(epoch={"epoch": [1, 2, 3], "loss": [3.0, 2.0, 1.0], "val_loss": [3.0, 2.5, 2.4],
                          "acc": [0.1, 0.5, 0.9]})
    cu.plot_history(h)
    axes = plt.gcf().axes
    assert len(axes) == 2 and [t.get_text() for t in axes[0].get_legend().get_texts()] == ["loss", "val_loss"]
    with pytest.raises(ValueError, match="none of the keys"):
        cu.plot_history(h, groups=[("nope",)])
    cm = torch.tensor([[5, 1], [0, 4]])
    cu.plot_confusion_matrix(cm, ["cat", "dog"], normalize=True)
    texts = [t.get_text() for t in plt.gcf().axes[0].texts]
    assert texts == ["0.83", "0.17", "0.00", "1.00"]


def test_progress_bar_can_be_switched_off():
    bar = cu.progress(range(3), enabled=False)
    assert list(bar) == [0, 1, 2] and bar.disable


def test_show_source_shows_infrastructure_and_refuses_taught_code(capsys):
    cu.show_source(cu.ranges.unnormalize_to_zero_to_one)  # hand-written: printed (no IPython here)
    assert "def unnormalize_to_zero_to_one" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"taught in notebooks/01_cnn_basics.ipynb: read \(or edit\) its"):
        cu.show_source(cu.ops.conv2d_loops)  # generated from notebook 01
