"""The Colab configuration, with a stand-in for the google.colab module."""

import sys
import types

import course_utils.colab as colab


def test_outside_colab_nothing_happens(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delenv("COURSE_CHECKPOINT_DIR", raising=False)
    assert not colab.in_colab()
    assert colab.configure_colab() == {}
    assert "nothing to configure" in capsys.readouterr().out
    import os

    assert "COURSE_CHECKPOINT_DIR" not in os.environ


def _fake_colab(monkeypatch):
    mounted = []
    google = types.ModuleType("google")
    colab_mod = types.ModuleType("google.colab")
    colab_mod.drive = types.SimpleNamespace(mount=lambda path: mounted.append(path))
    google.colab = colab_mod
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab_mod)
    return mounted


def test_in_colab_with_drive(monkeypatch):
    mounted = _fake_colab(monkeypatch)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.delenv("COURSE_CHECKPOINT_DIR", raising=False)
    folders = colab.configure_colab()
    assert mounted == ["/content/drive"]
    assert folders == {"COURSE_DATA_DIR": "/content/course-data",
                       "COURSE_CHECKPOINT_DIR": "/content/drive/MyDrive/image-generation-course/checkpoints"}


def test_in_colab_without_drive_keeps_existing_settings(monkeypatch):
    mounted = _fake_colab(monkeypatch)
    monkeypatch.setenv("COURSE_DATA_DIR", "/content/my-data")
    monkeypatch.delenv("COURSE_CHECKPOINT_DIR", raising=False)
    folders = colab.configure_colab(checkpoints_on_drive=False)
    assert mounted == []
    assert folders == {"COURSE_DATA_DIR": "/content/my-data", "COURSE_CHECKPOINT_DIR": "/content/checkpoints"}
