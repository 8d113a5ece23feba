
import torch

import course_utils as cu


def test_get_device_prefers_cuda_then_mps_then_cpu(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert cu.get_device().type == "cpu"
    assert "cpu" in capsys.readouterr().out
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert cu.get_device(verbose=False).type == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Test GPU")
    assert cu.get_device(verbose=False).type == "cuda"


def test_environment_report_names_everything(settings):
    import torchvision

    report = cu.environment_report(settings, torch.device("cpu"))
    for text in (torch.__version__, torchvision.__version__, "smoke", str(settings.data_dir),
                 str(settings.checkpoint_dir), "image-generation-course", "Python"):
        assert text in report
