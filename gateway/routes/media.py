"""Gateway routes for pictures: uploads (as wx.uploadFile sends them) and serving them."""
import base64

from werkzeug.wrappers import Response

from gateway.routing import route
from gateway.schemas import media as s
from plumbing import settings
from plumbing.errors import NotFound
from plumbing.rpc import RemoteService
from plumbing.web import http

SHOP, ADMIN = "shop", "merchant"
MEDIA_CACHE = "public, max-age=31536000, immutable"
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file


def _upload_limit():
    """An upload's body may hold the largest image catalog accepts, plus its multipart
    wrapping: a slightly larger image then gets catalog's clear `image_too_large`."""
    return settings.max_image_bytes() + MULTIPART_OVERHEAD


def _base64(data):
    return base64.b64encode(data).decode("ascii")


class MediaRoutes:
    catalog = RemoteService("catalog")

    @route("POST", "/api/v1/images", "Upload a picture (for a review or feedback)", SHOP,
           role="customer", body=s.ImageUpload(), response=s.Image(), status=201,
           max_body=_upload_limit, limit="upload")
    def upload_shopper_image(self, request, user, body):
        return self.catalog.upload_image(user["user_id"], _base64(body["file"]))

    @route("POST", "/admin/v1/images", "Upload a product, SKU or category picture", ADMIN,
           role=("merchant", "ops"), body=s.ImageUpload(), response=s.Image(), status=201,
           max_body=_upload_limit, limit="upload")
    def upload_merchant_image(self, request, user, body):
        return self.catalog.upload_image(user["user_id"], _base64(body["file"]))

    @http("GET", "/media/<name>")
    def media(self, request, name):
        """An uploaded image. Its name is its content's hash, so it never changes: cached
        for a year, and a client that has it gets a 304 without catalog being asked."""
        if s.MEDIA_PATH.fullmatch(f"/media/{name}") is None:
            raise NotFound("image_not_found", "There is no such image.")
        etag = name.split(".", 1)[0]
        headers = {"ETag": f'"{etag}"', "Cache-Control": MEDIA_CACHE,
                   "X-Content-Type-Options": "nosniff"}
        if request.if_none_match.contains(etag):
            return Response(status=304, headers=headers)
        image = self.catalog.read_image(name)
        return Response(base64.b64decode(image["data_b64"]), headers=headers,
                        mimetype=image["content_type"])
