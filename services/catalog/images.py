"""Uploaded images: which bytes are accepted, and where they are kept.

An upload is judged by decoding it, never by its name or declared type: only JPEG,
PNG, WEBP and GIF that Pillow can read pass, within a byte limit and a pixel limit
checked from the header *before* anything is decoded (a few kilobytes of PNG can
claim gigabytes of pixels). Accepted bytes are kept as they came, under a name made
of their SHA-256 and the real type's extension: the same picture uploaded twice is
one file, and a name can never be reused for other content (so answers may be
cached for ever).
"""
import base64
import binascii
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from plumbing.errors import BadRequest, TooLarge

# Pillow format -> (content type, file extension)
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"),
           "WEBP": ("image/webp", "webp"), "GIF": ("image/gif", "gif")}
CONTENT_TYPES = {extension: content_type for content_type, extension in FORMATS.values()}
NAME = re.compile(r"^[0-9a-f]{64}\.(?:jpg|png|webp|gif)$")
URL_PREFIX = "/media/"
# Long product-detail pictures (750 x 20000) pass; a 48-megapixel phone photo does not.
MAX_SIDE = 30_000
MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class Inspected:
    content_type: str
    extension: str
    width: int
    height: int


def decode_upload(data_b64, max_bytes):
    """The uploaded bytes from their base64 text; 413 above `max_bytes`, judged on the
    text's length before decoding so an oversized upload costs no memory."""
    if not isinstance(data_b64, str):
        raise BadRequest("invalid_upload", "The image must be sent as base64 text.")
    if len(data_b64) > 4 * (max_bytes // 3 + 1):
        raise too_large(max_bytes)
    try:
        data = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("invalid_upload", "The image is not valid base64.") from None
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    if not data:
        raise BadRequest("empty_upload", "The file is empty.")
    return data


def too_large(max_bytes):
    return TooLarge("image_too_large", f"An image may be at most {max_bytes} bytes.",
                    details={"file": [f"Larger than {max_bytes} bytes."]})


def inspect(data):
    """What the bytes really are, or 400: `unsupported_image_type` (not a JPEG, PNG,
    WEBP or GIF, whatever its name said), `image_too_big` (too many pixels) or
    `invalid_image` (the type is right but the picture does not decode)."""
    try:
        # Image.open reads only the header; the size is checked before any decoding.
        with Image.open(BytesIO(data), formats=list(FORMATS)) as image:
            found = Inspected(*FORMATS[image.format], *image.size)
            check_dimensions(found.width, found.height)
            _decode(image)
    except UnidentifiedImageError:
        raise BadRequest("unsupported_image_type",
                         "Only JPEG, PNG, WEBP and GIF images are accepted.",
                         details={"file": ["Not a JPEG, PNG, WEBP or GIF image."]}) from None
    except Image.DecompressionBombError:  # Pillow's own, far above ours: never decoded
        raise _too_big() from None
    except (OSError, SyntaxError, ValueError, EOFError):  # what Pillow raises on broken data
        raise BadRequest("invalid_image", "The image is damaged or incomplete.",
                         details={"file": ["The picture could not be read."]}) from None
    return found


def check_dimensions(width, height):
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= MAX_PIXELS):
        raise _too_big()


def _too_big():
    return BadRequest("image_too_big",
                      f"An image may be at most {MAX_SIDE} pixels a side and "
                      f"{MAX_PIXELS // 1_000_000} megapixels.",
                      details={"file": ["Too many pixels."]})


def _decode(image):
    """Decodes the (first frame of the) picture, so a truncated or corrupt file is
    refused. A JPEG is decoded at 1/8 scale: the whole stream is still read, at a
    sixty-fourth of the memory."""
    if image.format == "JPEG":
        image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
    image.load()


def media_name(data, extension):
    return f"{hashlib.sha256(data).hexdigest()}.{extension}"


def media_url(name):
    return URL_PREFIX + name


def is_media_name(name):
    return isinstance(name, str) and NAME.fullmatch(name) is not None


def content_type_of(name):
    return CONTENT_TYPES[name.rsplit(".", 1)[1]]


class MediaStore:
    """Image files in one directory, named by content."""

    def __init__(self, root):
        self.root = Path(root)

    def path(self, name):
        if not is_media_name(name):  # the pattern is also what keeps paths inside root
            raise ValueError(f"not a media name: {name!r}")
        return self.root / name

    def has(self, name):
        return self.path(name).is_file()

    def save(self, name, data):
        """Written to a temporary file, then renamed: a reader never sees half a file,
        and two uploads of the same picture at once both end with the whole one."""
        target = self.path(name)
        if target.is_file():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def read(self, name):
        """The file's bytes, or None when there is no such file."""
        try:
            return self.path(name).read_bytes()
        except FileNotFoundError:
            return None
