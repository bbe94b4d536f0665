"""Uploaded images kept by catalog: taking an upload (a file under the media directory and
a row in `images`), reading one back, and checking that `/media/<name>` references name an
image uploaded here. The bytes themselves are judged and named by images.py."""
import base64

from plumbing import clock, settings
from plumbing.errors import NotFound
from plumbing.threads import off_hub
from plumbing.validation import invalid
from services.catalog import images, store, views


def check(db, refs):
    """`/media/<name>` references must name an image uploaded here (URLs elsewhere
    are the merchant's to keep alive). `refs`: {field path: url or None}."""
    names = {path: url.removeprefix(images.URL_PREFIX) for path, url in refs.items()
             if url and url.startswith(images.URL_PREFIX)}
    known = store.known_images(db.session, set(names.values()))
    unknown = {path: ["No image was uploaded under this name."]
               for path, name in names.items() if name not in known}
    if unknown:
        raise invalid(unknown)


def upload(db, user_id, data_b64):
    """Checks the bytes (size, real type, pixels), keeps them under a name made of their
    hash, and answers the image's view. The same picture twice is one image. A refused
    upload leaves no file and no row."""
    data = images.decode_upload(data_b64, settings.max_image_bytes())
    found = off_hub(images.inspect, data)  # decoding takes a while: not on the hub
    name = images.media_name(data, found.extension)
    # The file first: a row must never point at a missing file; a file left by a
    # transaction that then failed is harmless, and reused by the next upload of it.
    images.MediaStore(settings.media_dir()).save(name, data)
    row = store.image(db.session, name) or store.add_image(
        db.session, name=name, content_type=found.content_type, size=len(data),
        width=found.width, height=found.height, uploaded_by=user_id, created_at=clock.now())
    return views.image(row)


def read(db, name):
    """{name, content_type, data_b64} of an uploaded image; 404 for any other name."""
    row = store.image(db.session, name) if images.is_media_name(name) else None
    data = images.MediaStore(settings.media_dir()).read(name) if row else None
    if data is None:
        raise NotFound("image_not_found", "There is no such image.")
    return {"name": name, "content_type": row.content_type,
            "data_b64": base64.b64encode(data).decode("ascii")}
