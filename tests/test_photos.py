"""Photo sets (course_utils.photos) and the registry's downloadable collections (assets.COLLECTIONS)."""

import dataclasses
import hashlib
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

import course_utils as cu
from course_utils import assets
from course_utils import photos as P


def _write_photo(path, size=(40, 30), mode="RGB", seed=0):
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    array = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    Image.fromarray(array[..., 0] if channels == 1 else array, mode).save(path)


def test_offline_set_holds_the_mirror_and_skimage_photos_but_not_the_test_photos(settings):
    photos = P.offline_photos(settings)
    names = [p.name for p in photos.photos]
    assert len(photos) == 17 and photos.tag == "offline17"
    assert set(names) >= {"bythewater", "summer_1am", "coffee", "rocket", "motorcycle_left", "retina"}
    assert not {"astronaut", "chelsea"} & set(names)  # kept for the unseen-photo figures
    credits = photos.credits()
    assert "Risto Saukonpää, LGPL-3" in credits and "Maciej Wiklo" in credits and "SpaceX" in credits
    x = photos[0].load(max_side=64)
    assert x.shape[0] == 3 and max(x.shape[1:]) == 64 and x.min() >= 0 and x.max() <= 1


def test_first_n_is_a_fixed_subset(settings):
    photos = P.offline_photos(settings)
    four = photos.first(4)
    assert len(four) == 4 and four.photos == photos.first(4).photos
    assert len({p.source for p in four.photos}) == 4 and set(four.photos) <= set(photos.photos)
    assert four.tag == "offline17-first4"
    for n in (0, 18):
        with pytest.raises(ValueError, match="cannot take"):
            photos.first(n)


def test_folder_of_own_photos(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    _write_photo(tmp_path / "one.jpg")
    _write_photo(tmp_path / "a" / "two.PNG", mode="RGBA")
    _write_photo(tmp_path / "a" / "b" / "three.png", mode="L")
    _write_photo(tmp_path / ".hidden" / "secret.jpg")
    (tmp_path / "notes.txt").write_text("not a photo")
    photos = P.folder_photos(tmp_path)
    assert [p.name for p in photos.photos] == ["a/b/three.png", "a/two.PNG", "one.jpg"]
    assert photos.tag.startswith("folder3-")
    for p in photos.photos:  # grayscale and RGBA come out as RGB through the safe loader
        assert p.load().shape == (3, 30, 40)
    crops = P.RandomCrops(photos, crop=16, length=6)
    assert torch.stack([crops[i] for i in range(6)]).shape == (6, 3, 16, 16)


def test_a_huge_photo_is_refused_before_decoding(tmp_path):
    Image.new("1", (8000, 6000)).save(tmp_path / "huge.png")  # 48 megapixels, a small file
    photos = P.folder_photos(tmp_path)
    with pytest.raises(cu.ImageLoadError, match="megapixels"):
        photos[0].load()
    with pytest.raises(P.PhotosUnavailableError, match="megapixels"), pytest.warns(UserWarning, match="huge"):
        P.RandomCrops(photos, crop=32, length=1)[0]  # the only photo cannot be read


def test_a_damaged_photo_in_a_collection_is_skipped_with_a_warning(tmp_path):
    _write_photo(tmp_path / "a_good.jpg")
    (tmp_path / "b_truncated.jpg").write_bytes((tmp_path / "a_good.jpg").read_bytes()[:200])
    crops = P.RandomCrops(P.folder_photos(tmp_path), crop=16, length=4)
    with pytest.warns(UserWarning, match="b_truncated.jpg"):
        batch = torch.stack([crops[i] for i in range(4)])  # items 1 and 3 fall back to the good photo
    assert batch.shape == (4, 3, 16, 16) and list(crops._bad) == [1]


def test_folder_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(P.PhotosUnavailableError, match="not a folder"):
        P.folder_photos(tmp_path / "missing")
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(P.PhotosUnavailableError, match="no image files"):
        P.folder_photos(tmp_path)


def test_training_photos_prefers_course_photos_dir(tmp_path, settings):
    _write_photo(tmp_path / "mine.jpg")
    lines = []
    own = cu.get_settings({"COURSE_SMOKE": "1", "COURSE_DATA_DIR": str(settings.data_dir),
                           "COURSE_PHOTOS_DIR": str(tmp_path)})
    photos = P.training_photos(own, report=lines.append)
    assert len(photos) == 1 and "COURSE_PHOTOS_DIR" in lines[0]


def test_smoke_mode_uses_the_offline_photos_without_downloading(settings, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("smoke mode must not touch the network")

    monkeypatch.setattr(assets.requests, "head", no_network)
    lines = []
    photos = P.training_photos(settings, report=lines.append)
    assert photos.tag == "offline17" and "smoke mode does not download" in lines[0]


def test_an_explicit_download_false_is_named_as_the_reason(settings, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("download=False must not touch the network")

    monkeypatch.setattr(assets.requests, "head", no_network)
    full = dataclasses.replace(settings, smoke=False)
    lines = []
    photos = P.training_photos(full, download=False, report=lines.append)
    assert photos.tag == "offline17" and "downloading was not asked for" in lines[0], lines


def test_random_crops_are_reproducible_and_in_range(settings):
    photos = P.offline_photos(settings).first(3)
    crops = P.RandomCrops(photos, crop=24, length=5, short_side=48)
    torch.manual_seed(0)
    a = torch.stack([crops[i] for i in range(5)])
    torch.manual_seed(0)
    b = torch.stack([crops[i] for i in range(5)])
    assert torch.equal(a, b) and a.shape == (5, 3, 24, 24) and a.min() >= 0 and a.max() <= 1
    assert all(min(crops.shrunk(k).shape[1:]) == 48 for k in range(3))
    with pytest.raises(ValueError, match="short_side"):
        P.RandomCrops(photos, crop=64, length=1, short_side=32)


def test_test_photos_and_textures(settings):
    unseen = P.test_photos(settings, max_side=64)
    assert list(unseen) == ["Tübingen", "Golden Gate", "astronaut", "cat"]
    assert all(x.shape[0] == 3 and max(x.shape[1:]) == 64 for x in unseen.values())
    brick = P.skimage_photo("brick", max_side=32)
    assert brick.shape == (3, 32, 32) and torch.equal(brick[0], brick[2])
    with pytest.raises(KeyError, match="colour photos or textures"):
        P.skimage_photo("mona_lisa")


# ---------------------------------------------------------------- collections


def _fake_collection(tmp_path, monkeypatch, url="http://127.0.0.1:9/photos.zip"):
    """Register a 3-photo zip as a collection; returns (settings with an empty data folder, zip bytes)."""
    src = tmp_path / "src"
    (src / "val").mkdir(parents=True)
    for i in range(3):
        _write_photo(src / "val" / f"{i:03d}.jpg", seed=i)
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted((src / "val").iterdir()):
            z.write(f, f"val/{f.name}")
    data = archive.read_bytes()
    monkeypatch.setitem(assets.COLLECTIONS, "tiny", assets.Collection(
        url=url, sha256=hashlib.sha256(data).hexdigest(), size=len(data), folder="collections/tiny", count=3,
        description="three test photos", licence="test", checksum_source="the test"))
    settings = cu.get_settings({"COURSE_SMOKE": "1", "COURSE_DATA_DIR": str(tmp_path / "data")})
    return settings, data


def test_offline_collection_error_writes_nothing(tmp_path, monkeypatch):
    settings, _ = _fake_collection(tmp_path, monkeypatch)
    with pytest.raises(cu.AssetUnavailableError) as info:
        assets.fetch_collection("tiny", settings)
    msg = str(info.value)
    assert "http://127.0.0.1:9/photos.zip" in msg and "COURSE_PHOTOS_DIR" in msg and "COURSE_DATA_DIR" in msg
    assert not (tmp_path / "data").exists()  # the HEAD request failed first: no folders were created
    with pytest.raises(cu.AssetUnavailableError, match="is not in"):
        assets.fetch_collection("tiny", settings, download=False)


def test_collection_from_a_local_archive_is_checked_unpacked_and_listed(tmp_path, monkeypatch):
    settings, data = _fake_collection(tmp_path, monkeypatch)
    downloads = settings.data_dir / "downloads"
    downloads.mkdir(parents=True)
    (downloads / "photos.zip").write_bytes(data)  # as if downloaded: pooch finds the right hash
    folder = assets.fetch_collection("tiny", settings)
    assert (folder / ".complete").read_text().strip() == assets.COLLECTIONS["tiny"].sha256
    assert not (downloads / "photos.zip").exists()  # the archive is removed after unpacking
    assert assets.fetch_collection("tiny", settings) == folder  # no archive, no network needed now
    photos = P.collection_photos(settings, "tiny")
    assert len(photos) == 3 and photos.tag == "tiny" and photos[0].load().shape == (3, 30, 40)


def test_damaged_archive_is_refused(tmp_path, monkeypatch):
    settings, data = _fake_collection(tmp_path, monkeypatch)
    downloads = settings.data_dir / "downloads"
    downloads.mkdir(parents=True)
    (downloads / "photos.zip").write_bytes(data[:-10] + b"0123456789")
    with pytest.raises(cu.AssetUnavailableError, match="could not be downloaded and unpacked"):
        assets.fetch_collection("tiny", settings)
    assert not (settings.data_dir / "collections" / "tiny" / ".complete").exists()


def test_the_registered_collection_has_its_published_hash():
    coco = assets.COLLECTIONS["coco_val2017"]
    assert coco.url == "http://images.cocodataset.org/zips/val2017.zip" and coco.size == 815_585_330
    assert coco.sha256 == "4f7e2ccb2866ec5041993c9cf2a952bbed69647b115d0f74da7ce8f4bef82f05"
    assert coco.count == 5000 and "TensorFlow Datasets" in coco.checksum_source
