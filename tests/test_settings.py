from pathlib import Path

import pytest

import course_utils as cu


def test_defaults_are_full_mode_in_the_repo():
    s = cu.get_settings({})
    root = Path(cu.__file__).resolve().parent.parent
    assert not s.smoke and s.mode == "full"
    assert s.data_dir == root / "data"
    assert s.checkpoint_dir == root / "checkpoints"


def test_environment_variables(tmp_path):
    s = cu.get_settings({"COURSE_SMOKE": "1", "COURSE_DATA_DIR": str(tmp_path / "d"),
                         "COURSE_CHECKPOINT_DIR": str(tmp_path / "c")})
    assert s.smoke and s.mode == "smoke"
    assert s.data_dir == tmp_path / "d"
    # smoke checkpoints never mix with full ones
    assert s.checkpoint_path("dcgan") == tmp_path / "c" / "smoke" / "dcgan.pt"
    assert s.choose(full=10, smoke=1) == 1
    assert cu.get_settings({"COURSE_SMOKE": "0"}).choose(full=10, smoke=1) == 10


@pytest.mark.parametrize("value", ["maybe", "2", "smoke"])
def test_bad_smoke_flag_is_a_clear_error(value):
    with pytest.raises(ValueError, match="COURSE_SMOKE must be 1 .* got"):
        cu.get_settings({"COURSE_SMOKE": value})


@pytest.mark.parametrize("name", ["", "../evil", "a/b", ".hidden"])
def test_checkpoint_names_are_plain(name):
    with pytest.raises(ValueError, match="plain file name"):
        cu.get_settings({}).checkpoint_path(name)
