"""Wire schemas of uploaded pictures and the references to them."""
import functools
import re

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from gateway.routing import MULTIPART
from gateway.schemas.common import URL, Integer, String

MEDIA_PATH = re.compile(r"^/media/[0-9a-f]{64}\.(?:jpg|png|webp|gif)$")


def image_ref(value):
    """An http(s) URL, or the `/media/...` path an upload answered."""
    if MEDIA_PATH.fullmatch(value) is None:
        URL(value)


ImageRef = functools.partial(fields.String, validate=[validate.Length(max=500), image_ref],
                             metadata={"description": "an http(s) URL or an uploaded image's "
                                                      "/media/ path"})


def upload_ref(value):
    if MEDIA_PATH.fullmatch(value) is None:
        raise ValidationError("Must be the /media/ path of an uploaded image.")


UploadRef = functools.partial(fields.String, validate=upload_ref, metadata={
    "description": "the /media/ path that POST /api/v1/images answered"})


class UploadedFile(fields.Field):
    """A multipart file part, read into bytes (its size and type are catalog's to judge)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("Must be a file part.")
        return value.read()


class ImageUpload(Schema):
    content_type = MULTIPART
    file = UploadedFile(required=True, metadata={"type": "string", "format": "binary",
                                                 "description": "JPEG, PNG, WEBP or GIF"})


class Image(Schema):
    id = Integer(31, required=True)
    url = String("/media/" + "3f" * 32 + ".jpg", "/media/<sha256>.<ext>: what reviews, "
                 "feedback and products take as image_urls", required=True)
    content_type = String("image/jpeg", required=True)
    size = Integer(48213, "bytes", required=True)
    width = Integer(800, "pixels", required=True)
    height = Integer(600, "pixels", required=True)
