"""What an upload must be to be kept, and how it is kept: no broker, no database."""
import base64
import struct
import zlib
from io import BytesIO

import pytest
from PIL import Image

from plumbing.errors import BadRequest, TooLarge
from services.catalog import images


def picture(fmt, size=(40, 30), mode="RGB"):
    buffer = BytesIO()
    Image.new(mode, size, "red" if mode == "RGB" else 0).save(buffer, fmt)
    return buffer.getvalue()


def png_claiming(width, height):
    """A tiny PNG whose header claims a huge picture: what a decompression bomb looks
    like before anything is decoded."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + \
            struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))


def code_of(call, *args):
    with pytest.raises((BadRequest, TooLarge)) as raised:
        call(*args)
    return raised.value.code


# --- what is accepted ----------------------------------------------------------------

@pytest.mark.parametrize("fmt, content_type, extension", [
    ("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png"),
    ("WEBP", "image/webp", "webp"), ("GIF", "image/gif", "gif")])
def test_the_four_web_formats_are_accepted(fmt, content_type, extension):
    assert images.inspect(picture(fmt)) == images.Inspected(content_type, extension, 40, 30)


def test_a_long_product_detail_picture_is_accepted():
    found = images.inspect(picture("JPEG", size=(750, 20_000)))
    assert (found.width, found.height) == (750, 20_000)


@pytest.mark.parametrize("data", [
    b"just some text, named photo.jpg",
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"%PDF-1.4\n",
    picture("BMP"),
    picture("TIFF"),
    b"\x00" * 100,
])
def test_anything_else_is_an_unsupported_type(data):
    assert code_of(images.inspect, data) == "unsupported_image_type"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
@pytest.mark.parametrize("kept", [0.5, 0.99])
def test_a_truncated_picture_is_an_invalid_image(fmt, kept):
    buffer = BytesIO()
    Image.effect_noise((200, 200), 80).convert("RGB").save(buffer, fmt)  # noise: not tiny
    data = buffer.getvalue()
    assert code_of(images.inspect, data[: int(len(data) * kept)]) == "invalid_image"


@pytest.mark.parametrize("width, height", [
    (images.MAX_SIDE + 1, 10),  # too wide
    (10, images.MAX_SIDE + 1),  # too tall
    (7_000, 7_000),  # each side fine, too many pixels
    (100_000, 100_000),  # Pillow's own bomb guard fires first
])
def test_huge_dimensions_are_refused_before_decoding(width, height):
    bomb = png_claiming(width, height)
    assert len(bomb) < 200
    assert code_of(images.inspect, bomb) == "image_too_big"


def test_the_pixel_limit_itself_passes():
    images.check_dimensions(images.MAX_SIDE, images.MAX_PIXELS // images.MAX_SIDE)


# --- the upload's size ----------------------------------------------------------------------

def b64(data):
    return base64.b64encode(data).decode("ascii")


def test_an_upload_at_the_limit_is_decoded():
    assert images.decode_upload(b64(b"x" * 1000), max_bytes=1000) == b"x" * 1000


@pytest.mark.parametrize("size", [1001, 5000, 10**6])
def test_an_upload_over_the_limit_is_too_large(size):
    with pytest.raises(TooLarge) as raised:
        images.decode_upload(b64(b"x" * size), max_bytes=1000)
    assert (raised.value.code, raised.value.status) == ("image_too_large", 413)


@pytest.mark.parametrize("text, code", [
    ("not base64!", "invalid_upload"), ("", "empty_upload"), (None, "invalid_upload"),
    (12, "invalid_upload")])
def test_an_upload_must_be_base64_text(text, code):
    assert code_of(images.decode_upload, text, 1000) == code


# --- names and files ---------------------------------------------------------------------------

def test_the_name_is_the_contents_hash_and_real_type():
    data = picture("PNG")
    name = images.media_name(data, "png")
    assert images.is_media_name(name) and name.endswith(".png")
    assert name == images.media_name(picture("PNG"), "png")  # same picture, same name
    assert name != images.media_name(picture("PNG", size=(41, 30)), "png")
    assert images.media_url(name) == f"/media/{name}"
    assert images.content_type_of(name) == "image/png"


@pytest.mark.parametrize("name", [
    "../secret", "a" * 64 + ".jpg/../../x", "A" * 64 + ".jpg", "a" * 63 + ".jpg",
    "a" * 64 + ".exe", "a" * 64, ".upload-123", None, 42])
def test_only_hash_names_are_media_names(name):
    assert not images.is_media_name(name)


def test_a_file_is_kept_once_and_read_back(tmp_path):
    store = images.MediaStore(tmp_path / "media")
    data = picture("GIF")
    name = images.media_name(data, "gif")
    assert store.read(name) is None and not store.has(name)
    store.save(name, data)
    store.save(name, data)  # again: nothing changes
    assert store.read(name) == data
    assert [path.name for path in (tmp_path / "media").iterdir()] == [name]  # no temp left


def test_paths_never_leave_the_media_directory(tmp_path):
    store = images.MediaStore(tmp_path)
    with pytest.raises(ValueError):
        store.save("../escape.jpg", b"x")
    with pytest.raises(ValueError):
        store.read("../../etc/passwd")
