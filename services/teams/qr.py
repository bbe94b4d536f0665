"""QR codes of share links, drawn as PNG (segno: pure Python, no image library)."""
import base64
import io

import segno


def png_base64(url):
    """The QR code of `url` as base64 PNG: error correction M survives a scuffed print,
    scale 8 makes a ~300 px square a phone camera reads from a screen."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
