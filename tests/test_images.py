"""The safe image loader against every kind of bad input, with the bad files made here."""

import errno
import io
import os
import struct
import tempfile
import time
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

import course_utils as cu


def _save(img: Image.Image, path, fmt=None, **kw):
    img.save(path, format=fmt, **kw)
    return path


def _gradient(w=40, h=30) -> Image.Image:
    a = np.zeros((h, w, 3), np.uint8)
    a[..., 0] = np.linspace(0, 255, w)[None, :]
    a[..., 1] = np.linspace(0, 255, h)[:, None]
    a[..., 2] = 128
    return Image.fromarray(a)


# ------------------------------------------------------------------ good inputs


def test_rgb_png_round_trip(tmp_path):
    img = _gradient()
    t = cu.load_image(_save(img, tmp_path / "a.png"))
    assert t.shape == (3, 30, 40) and t.dtype == torch.float32
    torch.testing.assert_close(t, torch.from_numpy(np.array(img)).permute(2, 0, 1).float() / 255)


def test_exif_orientation_is_applied(tmp_path):
    img = _gradient(40, 20)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    t = cu.load_image(_save(img, tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95))
    assert t.shape == (3, 40, 20)


def test_grayscale_becomes_three_equal_channels(tmp_path):
    t = cu.load_image(_save(_gradient().convert("L"), tmp_path / "g.png"))
    assert t.shape[0] == 3 and torch.equal(t[0], t[1]) and torch.equal(t[1], t[2])


def test_one_bit_image(tmp_path):
    t = cu.load_image(_save(_gradient().convert("1"), tmp_path / "b.png"))
    assert set(t.unique().tolist()) <= {0.0, 1.0}


def test_rgba_is_composited_over_white(tmp_path):
    a = np.zeros((10, 10, 4), np.uint8)
    a[:5, :, :] = (255, 0, 0, 255)   # opaque red
    a[5:, :, :] = (0, 0, 0, 0)       # fully transparent (black underneath)
    t = cu.load_image(_save(Image.fromarray(a, "RGBA"), tmp_path / "t.png"))
    torch.testing.assert_close(t[:, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(t[:, 9, 0], torch.ones(3))


def test_palette_with_and_without_transparency(tmp_path):
    img = _gradient()
    p = img.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    t = cu.load_image(_save(p, tmp_path / "p.png"))
    torch.testing.assert_close(t, torch.from_numpy(np.array(p.convert("RGB"))).permute(2, 0, 1).float() / 255)
    p.info["transparency"] = 0
    t2 = cu.load_image(_save(p, tmp_path / "pt.gif"))
    assert t2.shape == (3, 30, 40) and t2.max() <= 1


def test_cmyk_jpeg(tmp_path):
    img = Image.new("RGB", (16, 16), (255, 0, 0)).convert("CMYK")
    t = cu.load_image(_save(img, tmp_path / "c.jpg", quality=100))
    assert t[0].mean() > 0.9 and t[1].mean() < 0.1 and t[2].mean() < 0.1


def test_sixteen_bit_grayscale_keeps_its_range(tmp_path):
    a = np.array([[0, 32768], [65535, 16384]], dtype=np.uint16)
    img = Image.fromarray(a)
    assert img.mode.startswith("I")
    t = cu.load_image(_save(img, tmp_path / "d.png"))
    torch.testing.assert_close(t[0], torch.tensor([[0.0, 32768 / 65535], [1.0, 16384 / 65535]]))


def test_max_side_downscales_with_aspect_ratio(tmp_path):
    t = cu.load_image(_save(_gradient(100, 50), tmp_path / "big.png"), max_side=40)
    assert t.shape == (3, 20, 40)
    small = cu.load_image(_save(_gradient(10, 5), tmp_path / "small.png"), max_side=40)
    assert small.shape == (3, 5, 10)  # never upscaled


def test_bytes_and_memoryview_uploads(tmp_path):
    buf = io.BytesIO()
    _gradient().save(buf, format="PNG")
    for data in (buf.getvalue(), memoryview(buf.getvalue())):
        assert cu.load_image(data).shape == (3, 30, 40)


def test_registry_image_loads(settings):
    t = cu.load_image(cu.fetch_asset("starry_night.jpg", settings), max_side=256)
    assert t.shape[0] == 3 and max(t.shape[1:]) == 256 and t.min() >= 0 and t.max() <= 1


# ------------------------------------------------------------------ bad inputs


def test_missing_file(tmp_path):
    with pytest.raises(cu.ImageLoadError, match="does not exist"):
        cu.load_image(tmp_path / "nope.jpg")


def test_folder(tmp_path):
    with pytest.raises(cu.ImageLoadError, match="is a folder"):
        cu.load_image(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(cu.ImageLoadError, match="empty"):
        cu.load_image(tmp_path / "empty.jpg")


def test_non_image_file(tmp_path):
    (tmp_path / "notes.jpg").write_text("these are my notes, not a picture\n" * 20)
    with pytest.raises(cu.ImageLoadError, match="not an image"):
        cu.load_image(tmp_path / "notes.jpg")


@pytest.mark.parametrize("fmt,suffix", [("JPEG", "jpg"), ("PNG", "png")])
def test_truncated_file(tmp_path, fmt, suffix):
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8))
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    data = buf.getvalue()
    (tmp_path / f"cut.{suffix}").write_bytes(data[: len(data) // 2])
    with pytest.raises(cu.ImageLoadError, match="damaged or truncated"):
        cu.load_image(tmp_path / f"cut.{suffix}")


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size: the decompression-bomb shape, without the memory."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 16))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [8000, 20000])  # 64 MP: our limit; 400 MP: Pillow's own error
def test_decompression_bomb_is_refused_before_decoding(tmp_path, side):
    (tmp_path / "bomb.png").write_bytes(_png_header_only(side, side))
    with pytest.raises(cu.ImageLoadError, match="too large|megapixels"):
        cu.load_image(tmp_path / "bomb.png")


def test_pixel_limit_is_adjustable(tmp_path):
    path = _save(_gradient(100, 100), tmp_path / "a.png")
    with pytest.raises(cu.ImageLoadError, match="megapixels"):
        cu.load_image(path, max_pixels=5000)


@pytest.mark.parametrize("fmt,suffix", [("PPM", "ppm"), ("ICO", "ico"), ("TGA", "tga")])
def test_formats_outside_the_safe_list(tmp_path, fmt, suffix):
    path = _save(_gradient(32, 32), tmp_path / f"x.{suffix}", fmt)
    with pytest.raises(cu.ImageLoadError, match=f"is a {fmt} file.*Convert it to PNG or JPEG"):
        cu.load_image(path)


def test_unreachable_url():
    with pytest.raises(cu.ImageLoadError, match="Could not download"):
        cu.load_image("http://127.0.0.1:9/painting.jpg")


# ------------------------------------------------------------------ saving


def test_save_then_load(tmp_path):
    t = torch.rand(3, 20, 30)
    path = cu.save_image(t, tmp_path / "out" / "x.png")
    torch.testing.assert_close(cu.load_image(path), t, atol=0.5 / 255 + 1e-6, rtol=0)
    g = cu.save_image(torch.rand(1, 1, 8, 8) * 2 - 1, tmp_path / "g.png", value_range=(-1, 1))
    assert cu.load_image(g).shape == (3, 8, 8)


def test_save_refuses_nan_and_bad_shapes(tmp_path):
    bad = torch.rand(3, 4, 4)
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        cu.save_image(bad, tmp_path / "nan.png")
    with pytest.raises(ValueError, match="shape"):
        cu.save_image(torch.rand(5, 4, 4), tmp_path / "five.png")
    assert not list(tmp_path.iterdir())


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = cu.save_image(torch.zeros(3, 4, 4), tmp_path / "keep.png")
    before = path.read_bytes()

    def broken_save(self, fp, format=None, **kw):
        fp.write(b"half a PNG")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        cu.save_image(torch.ones(3, 4, 4), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]


# ------------------------------------------------------------------ the hardening findings (issue 1-4)


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _header_damage() -> dict[str, bytes]:
    """The files of finding 1: damaged in the header, where Pillow raised its own errors."""
    img = _gradient()
    bmp = bytearray(_encode(img, "BMP"))
    bmp[28:30] = struct.pack("<H", 17)                      # bit depth 17
    tiff = bytearray(_encode(img, "TIFF"))
    ifd = struct.unpack("<I", tiff[4:8])[0]
    tiff[ifd + 2 + 2:ifd + 2 + 4] = struct.pack("<H", 5)   # ImageWidth's type SHORT -> RATIONAL
    png = _encode(img, "PNG")
    ztxt = _png_chunk(b"zTXt", b"comment\0\0" + zlib.compress(b" " * 2_000_000))  # 2 MB of text
    webp = _encode(img, "WEBP")
    return {
        "jpeg cut inside its header": _encode(img, "JPEG")[:100],
        "truncated webp": webp[: len(webp) // 2],
        "webp cut in its header": webp[:20],
        "bmp with 17 bits per pixel": bytes(bmp),
        "tiff with a changed tag type": bytes(tiff),
        "png with a 2 MB text chunk": png[:33] + ztxt + png[33:],
    }


@pytest.mark.parametrize("case", list(_header_damage()))
def test_header_damage_gives_the_course_error(case, tmp_path):
    data = _header_damage()[case]
    for source in (data, memoryview(data), tmp_path / "x.img"):
        (tmp_path / "x.img").write_bytes(data)
        with pytest.raises(cu.ImageLoadError, match="damaged|truncated"):
            cu.load_image(source)


@pytest.mark.parametrize("case", list(_header_damage()))
def test_uploads_of_both_ipywidgets_versions_take_the_same_path(case):
    from course_utils import widgets as W

    data = _header_damage()[case]
    v7 = {"x.png": {"metadata": {"name": "x.png"}, "content": data}}
    v8 = ({"name": "x.png", "type": "image/png", "size": len(data), "content": memoryview(data)},)
    for value in (v7, v8):
        with pytest.raises(cu.ImageLoadError, match="x.png: .*(damaged|truncated)"):
            W.load_uploaded_images(value)


def test_unreadable_paths_give_the_course_error(tmp_path, monkeypatch):
    with pytest.raises(cu.ImageLoadError, match="file name is too long"):
        cu.load_image(tmp_path / ("x" * 300 + ".png"))
    with pytest.raises(cu.ImageLoadError, match="a part of this path is a file"):
        cu.load_image(_save(_gradient(), tmp_path / "a.png") / "b.png")
    locked = _save(_gradient(), tmp_path / "locked.png")
    if os.geteuid() == 0:  # root reads every file: simulate what the file system says to a learner
        real = os.open

        def refuse(path, *a, **kw):
            if os.fspath(path) == str(locked):
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real(path, *a, **kw)

        monkeypatch.setattr(os, "open", refuse)
    else:
        locked.chmod(0)
    with pytest.raises(cu.ImageLoadError, match="Permission denied: you may not read"):
        cu.load_image(locked)


def test_a_fifo_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "x.png")  # reading it would wait forever for a writer
    t0 = time.perf_counter()
    with pytest.raises(cu.ImageLoadError, match="is a FIFO"):
        cu.load_image(tmp_path / "x.png")
    assert time.perf_counter() - t0 < 1


def test_devices_are_never_read():
    with pytest.raises(cu.ImageLoadError, match="/dev/zero is a character device, not an image file"):
        cu.load_image("/dev/zero")  # would be read until memory runs out


def test_the_size_cap_is_checked_before_reading(tmp_path):
    big = tmp_path / "big.png"
    with open(big, "wb") as f:  # a sparse file: 300 MB on paper, nothing on disk
        f.truncate(300 * 2**20)
    with pytest.raises(cu.ImageLoadError, match="300 MB, more than the 256 MB"):
        cu.load_image(big)
    with pytest.raises(cu.ImageLoadError, match="more than the limit of 0 MB"):
        cu.load_image(_encode(_gradient(), "PNG"), max_bytes=100)


@pytest.mark.parametrize("mode,key", [("L", 100), ("RGB", (100, 50, 25)), ("I;16", 1000), ("1", 255)])
def test_png_colour_key_transparency_becomes_white(tmp_path, mode, key):
    if mode == "I;16":
        img = Image.fromarray(np.array([[1000, 3000], [5000, 1000]], np.uint16))
    elif mode == "1":
        img = Image.fromarray(np.array([[255, 0], [0, 255]], np.uint8)).convert("1")
    else:
        a = np.array([[100, 200], [30, 100]], np.uint8)
        img = Image.fromarray(a if mode == "L" else np.stack([a, a // 2, a // 4], -1))
    t = cu.load_image(_save(img, tmp_path / "key.png", transparency=key))
    transparent = torch.tensor([[True, False], [False, True]])
    assert (t[:, transparent] == 1).all()  # the key colour is transparent: white, not black
    assert (t[:, ~transparent] < 1).all()  # the other pixels keep their colour


def test_decoding_is_bounded_for_jpegs_with_very_many_scans(tmp_path):
    data = _encode(_gradient(), "JPEG", progressive=True)
    bomb = data[:-2] + (b"\xff\xda" + b"\x00\x08\x01\x01\x00\x00\x3f\x00") * 300 + data[-2:]
    with pytest.raises(cu.ImageLoadError, match="JPEG with [0-9]+ scans"):
        cu.load_image(bomb)


# ------------------------------------------------------------------ saving (issue 4)


def test_save_refuses_bytes_declared_as_zero_to_one(tmp_path):
    img = (torch.rand(3, 8, 8) * 255).to(torch.uint8)
    with pytest.raises(ValueError, match="torch.uint8 tensor.*value_range=\\(0, 255\\)"):
        cu.save_image(img, tmp_path / "u8.png")
    with pytest.raises(ValueError, match="outside value_range=\\(0, 1\\).*\\(0, 255\\) for bytes"):
        cu.save_image(img.float(), tmp_path / "f255.png")
    assert not list(tmp_path.iterdir())
    path = cu.save_image(img, tmp_path / "ok.png", value_range=(0, 255))
    torch.testing.assert_close(cu.load_image(path), img.float() / 255, atol=0.5 / 255 + 1e-6, rtol=0)


@pytest.mark.parametrize("value_range", [(0, 0), (1, 0), (0, float("nan"))])
def test_save_refuses_an_empty_value_range(tmp_path, value_range):
    with pytest.raises(ValueError, match="value_range must be \\(low, high\\) with low < high"):
        cu.save_image(torch.rand(3, 4, 4), tmp_path / "x.png", value_range=value_range)


def test_save_refuses_an_empty_image_and_a_folder(tmp_path):
    with pytest.raises(ValueError, match="no pixels"):
        cu.save_image(torch.rand(3, 0, 4), tmp_path / "empty.png")
    (tmp_path / "out").mkdir()
    with pytest.raises(cu.images.ImageSaveError, match="out is a folder. Give the path of an image file"):
        cu.save_image(torch.rand(3, 4, 4), tmp_path / "out")
    (tmp_path / "out.png").mkdir()
    with pytest.raises(cu.images.ImageSaveError, match="out.png is a folder"):
        cu.save_image(torch.rand(3, 4, 4), tmp_path / "out.png")


def test_save_into_a_read_only_folder(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:  # root writes everywhere: simulate what the file system says to a learner
        real = tempfile.mkstemp

        def refuse(*a, dir=None, **kw):
            if dir is not None and os.path.samefile(dir, folder):
                raise PermissionError(errno.EACCES, "Permission denied", str(folder))
            return real(*a, dir=dir, **kw)

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    else:
        folder.chmod(0o500)
    with pytest.raises(cu.images.ImageSaveError, match="Permission denied: you may not write"):
        cu.save_image(torch.rand(3, 4, 4), folder / "x.png")
    folder.chmod(0o700)


def test_a_killed_save_leaves_no_temp_file_after_the_next_save(tmp_path):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    (tmp_path / f".x.png.{pid}.a1b2c3.tmp").write_bytes(b"half a PNG")  # what a killed save leaves
    cu.save_image(torch.rand(3, 4, 4), tmp_path / "x.png")
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]


# ------------------------------------------------------------------ header edits that change the size


def _sof(data: bytes) -> int:
    return data.index(b"\xff\xc0") + 5  # height (2 bytes), then width (2 bytes)


def _set(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def _tiff_height(tiff: bytes) -> int:
    """Where a little-endian TIFF stores its height (tag 257, ImageLength)."""
    ifd = struct.unpack("<I", tiff[4:8])[0]
    entries = (ifd + 2 + 12 * i for i in range(struct.unpack("<H", tiff[ifd:ifd + 2])[0]))
    return next(e for e in entries if tiff[e:e + 2] == b"\x01\x01") + 8


def _photo(size=48) -> Image.Image:
    """A real photograph (scikit-image's astronaut), small."""
    from skimage import data as skdata

    img = Image.fromarray(skdata.astronaut())
    img.thumbnail((size, size))
    return img


@pytest.mark.parametrize("case,says", [
    ("jpeg wider", "says 552x48 pixels, more than its data holds"),
    ("jpeg taller", "says 48x542 pixels, more than its data holds"),
    ("jpeg narrower", "says 16x48 pixels, fewer than its data holds"),
    ("jpeg one row", "says 48x1 pixels, fewer than its data holds"),
    ("progressive jpeg one row", "says 48x1 pixels, fewer than its data holds"),
    ("bmp shorter", "more bytes of pixel data"),
    ("gif wider canvas", "its canvas is 296x48 but its first frame is 48x48"),
    ("tiff taller", "its strips hold"),
    ("lzw tiff shorter", "says 48x20 pixels, fewer than its compressed data holds"),
    ("lossless webp shorter", "says 48x46 pixels, fewer than its data holds"),
    ("lossy webp narrower", "says 8x48 pixels, fewer than its data holds"),
])
def test_a_header_that_changes_the_size_is_refused_not_decoded_to_garbage(case, says):
    img = _photo()
    jpeg = _encode(img, "JPEG", quality=90)
    prog = _encode(img, "JPEG", quality=90, progressive=True)
    tiff = _encode(img, "TIFF")
    lzw = _encode(img, "TIFF", compression="tiff_lzw")
    lossless = _encode(img, "WEBP", lossless=True)
    bits = int.from_bytes(lossless[21:25], "little")  # VP8L: 14 bits width - 1, 14 bits height - 1
    lossy = _encode(img, "WEBP", quality=90)
    files = {
        "jpeg wider": _set(jpeg, _sof(jpeg) + 2, ">H", 552),
        "jpeg taller": _set(jpeg, _sof(jpeg), ">H", 542),
        "jpeg narrower": _set(jpeg, _sof(jpeg) + 2, ">H", 16),
        "jpeg one row": _set(jpeg, _sof(jpeg), ">H", 1),
        "progressive jpeg one row": _set(prog, prog.index(b"\xff\xc2") + 5, ">H", 1),
        "bmp shorter": _set(_encode(img, "BMP"), 22, "<i", 40),
        "gif wider canvas": _set(_encode(img, "GIF"), 6, "<H", 296),
        "tiff taller": _set(tiff, _tiff_height(tiff), "<H", 60),
        "lzw tiff shorter": _set(lzw, _tiff_height(lzw), "<H", 20),
        "lossless webp shorter": _set(lossless, 21, "<I", (bits & ~(0x3FFF << 14)) | (45 << 14)),
        "lossy webp narrower": _set(lossy, 26, "<H", 8),
    }
    with pytest.raises(cu.ImageLoadError, match=says):
        cu.load_image(files[case])


def test_size_edits_that_leave_a_valid_file_are_accepted():
    # JPEG codes 16x16 blocks: 48 -> 47 columns is the same data, a valid 47-pixel-wide file
    jpeg = _encode(_photo(), "JPEG", quality=90)
    t = cu.load_image(_set(jpeg, _sof(jpeg) + 2, ">H", 47))
    torch.testing.assert_close(t, cu.load_image(jpeg)[:, :, :47])


@pytest.mark.parametrize("fmt,kw", [
    ("JPEG", {"quality": 30}), ("JPEG", {"quality": 95, "progressive": True, "optimize": True}),
    ("JPEG", {"quality": 100, "subsampling": 0}), ("WEBP", {"quality": 80}), ("WEBP", {"lossless": True}),
    ("TIFF", {"compression": "tiff_lzw"}), ("TIFF", {"compression": "tiff_adobe_deflate"}),
    ("TIFF", {"compression": "packbits"}), ("BMP", {}), ("GIF", {}),
])
@pytest.mark.parametrize("picture", ["photo", "uniform", "letterbox"])
def test_correct_files_pass_the_size_checks(fmt, kw, picture):
    # The checks compare decodes; a picture whose data barely shows (one colour, a black bar at
    # the bottom) must never be mistaken for a damaged file.
    a = np.asarray(_photo(64)).copy()
    if picture == "uniform":
        a[:] = 255
    if picture == "letterbox":
        a[len(a) // 2:] = 0
    for mode in ("RGB", "L"):
        t = cu.load_image(_encode(Image.fromarray(a).convert(mode), fmt, **kw))
        assert t.shape == (3, *a.shape[:2])
