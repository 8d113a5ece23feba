import hashlib
import shutil

import pytest

import course_utils as cu
from course_utils import assets


def test_registry_lists_the_five_images_with_hashes():
    assert set(assets.ASSETS) == {"starry_night.jpg", "the_scream.jpg", "shipwreck.jpg", "tubingen.jpg",
                                  "golden_gate.jpg"}
    for name, a in assets.ASSETS.items():
        assert a.url.endswith("/" + name) and len(a.sha256) == 64


def test_fetch_from_the_data_folder_checks_the_hash(settings):
    for name, a in assets.ASSETS.items():
        path = cu.fetch_asset(name, settings)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == a.sha256


def _unreachable(monkeypatch):
    for name, a in list(assets.ASSETS.items()):
        monkeypatch.setitem(assets.ASSETS, name, assets.Asset("http://127.0.0.1:9/" + name, a.sha256,
                                                              a.description))


def test_offline_missing_file_names_file_url_and_both_fixes(empty_settings, monkeypatch):
    _unreachable(monkeypatch)
    with pytest.raises(cu.AssetUnavailableError) as info:
        cu.fetch_asset("tubingen.jpg", empty_settings)
    msg = str(info.value)
    assert "tubingen.jpg" in msg and "http://127.0.0.1:9/tubingen.jpg" in msg
    assert "connect to the internet" in msg and "COURSE_DATA_DIR" in msg
    assert "images/tubingen.jpg" in msg


def test_damaged_file_is_reported_as_damaged(settings, empty_settings, monkeypatch):
    _unreachable(monkeypatch)
    folder = assets.assets_dir(empty_settings)
    folder.mkdir(parents=True)
    (folder / "the_scream.jpg").write_bytes(b"not the painting")
    with pytest.raises(cu.AssetUnavailableError, match="sha256 does not match"):
        cu.fetch_asset("the_scream.jpg", empty_settings)


def test_a_good_local_copy_needs_no_network(settings, empty_settings, monkeypatch):
    _unreachable(monkeypatch)
    folder = assets.assets_dir(empty_settings)
    folder.mkdir(parents=True)
    shutil.copy(cu.fetch_asset("shipwreck.jpg", settings), folder / "shipwreck.jpg")
    assert cu.fetch_asset("shipwreck.jpg", empty_settings) == folder / "shipwreck.jpg"


def test_unknown_name():
    with pytest.raises(KeyError, match="Known files"):
        cu.fetch_asset("mona_lisa.jpg", cu.get_settings({}))
