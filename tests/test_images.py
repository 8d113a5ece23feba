"""The safe image loader against every kind of bad input, with the bad files made here."""

import io
import struct
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
