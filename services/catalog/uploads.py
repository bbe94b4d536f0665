"""Uploaded images kept by catalog: which `/media/<name>` references name one uploaded
here. The bytes themselves are judged and named by images.py."""
from plumbing.validation import invalid
from services.catalog import images, store


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
