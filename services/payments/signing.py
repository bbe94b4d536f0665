"""WeChat Pay APIv3 cryptography, shared by the sandbox and the real adapter: no I/O.

- Messages are signed with RSA-SHA256 (PKCS#1 v1.5) over lines each ending in "\\n":
  notifications and API answers over "timestamp\\nnonce\\nbody\\n" with the platform
  key; our API requests over "METHOD\\npath\\ntimestamp\\nnonce\\nbody\\n" with the
  merchant key.
- A notification's `resource` is JSON encrypted with AES-256-GCM under the APIv3 key
  (32 ASCII characters), a 12-character nonce and the associated data.

Keys are `cryptography` key objects; `keys.py` loads them from files.
"""
import base64
import json
import secrets
import string

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from plumbing import clock

SCHEME = "WECHATPAY2-SHA256-RSA2048"
ALGORITHM = "AEAD_AES_256_GCM"
MAX_CLOCK_SKEW_SECONDS = 300  # WeChat's advice: refuse older (or future) timestamps, against replay
NONCE_ALPHABET = string.ascii_letters + string.digits

TIMESTAMP = "wechatpay-timestamp"
NONCE = "wechatpay-nonce"
SERIAL = "wechatpay-serial"
SIGNATURE = "wechatpay-signature"
SIGNATURE_TYPE = "wechatpay-signature-type"


class Rejected(Exception):
    """A notification (or API answer) we will not act on. `status` is what the
    callback answers: 401 when the signature does not hold, 400 when the content
    cannot be read."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def nonce(length=32):
    return "".join(secrets.choice(NONCE_ALPHABET) for _ in range(length))


def signed_text(*parts):
    return "".join(f"{part}\n" for part in parts)


def sign(private_key, text):
    signature = private_key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def signature_holds(public_key, text, signature):
    try:
        public_key.verify(base64.b64decode(signature, validate=True), text.encode("utf-8"),
                          padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def serial_of(public_key):
    """A stable serial for a key we made ourselves (the sandbox's platform key): the
    first 40 hex digits of the SHA-256 of its DER form, upper case like WeChat's."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return digest.finalize().hex()[:40].upper()


# --- resources (AES-256-GCM) --------------------------------------------------------

def encrypt(apiv3_key, plaintext, associated_data, iv):
    sealed = AESGCM(apiv3_key.encode("ascii")).encrypt(
        iv.encode("ascii"), plaintext.encode("utf-8"), associated_data.encode("utf-8"))
    return base64.b64encode(sealed).decode("ascii")


def decrypt(apiv3_key, ciphertext, associated_data, iv):
    """The plaintext, or Rejected(400): a resource that does not open under our key."""
    try:
        opened = AESGCM(apiv3_key.encode("ascii")).decrypt(
            iv.encode("ascii"), base64.b64decode(ciphertext, validate=True),
            associated_data.encode("utf-8"))
        return opened.decode("utf-8")
    except (InvalidTag, ValueError, TypeError, UnicodeError):
        raise Rejected(400, "the resource could not be decrypted") from None


def encrypted_resource(apiv3_key, payload, associated_data):
    iv = nonce(12)
    return {"algorithm": ALGORITHM, "ciphertext": encrypt(apiv3_key, _json(payload),
                                                          associated_data, iv),
            "nonce": iv, "associated_data": associated_data}


# --- notifications ----------------------------------------------------------------------

def notification_body(event_id, create_time, event_type, summary, resource, original_type):
    """The exact text the provider POSTs; the signature covers these bytes."""
    return _json({"id": event_id, "create_time": create_time, "resource_type": "encrypt-resource",
                  "event_type": event_type, "summary": summary,
                  "resource": {**resource, "original_type": original_type}})


def signed_headers(private_key, serial, body, timestamp=None, iv=None):
    """What a WeChat Pay server sends along with a signed body."""
    timestamp = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
    iv = iv or nonce()
    return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": iv, "Wechatpay-Serial": serial,
            "Wechatpay-Signature": sign(private_key, signed_text(timestamp, iv, body)),
            "Wechatpay-Signature-Type": SCHEME}


def check_signed(headers, body, public_key, serial=None):
    """Raises Rejected(401) unless `body` was signed by the platform key, recently.
    `serial`, when known, is the platform key's: another serial names a key we do not
    hold. Header names are matched in any case, as HTTP does."""
    found = {str(name).lower(): value for name, value in (headers or {}).items()}
    timestamp, iv, signature = found.get(TIMESTAMP), found.get(NONCE), found.get(SIGNATURE)
    if not (isinstance(timestamp, str) and isinstance(iv, str) and isinstance(signature, str)):
        raise Rejected(401, "signature headers are missing")
    if found.get(SIGNATURE_TYPE, SCHEME) != SCHEME:
        raise Rejected(401, "unknown signature type")
    if serial is not None and found.get(SERIAL) != serial:
        raise Rejected(401, "signed with an unknown platform key serial")
    if not timestamp.isdigit() or \
            abs(clock.now().timestamp() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise Rejected(401, "the signature timestamp is too old or in the future")
    if not signature_holds(public_key, signed_text(timestamp, iv, body), signature):
        raise Rejected(401, "the signature does not match")


def verify_and_decrypt(headers, body, public_key, apiv3_key, serial=None):
    """A provider notification, checked and opened:
    -> {"id", "event_type", "create_time", "resource": the decrypted JSON}.
    Rejected(401) for a signature that does not hold, Rejected(400) for content that
    cannot be read under a good signature."""
    check_signed(headers, body, public_key, serial)
    envelope = _object(body, "the body is not a JSON object")
    resource = envelope.get("resource")
    if not isinstance(resource, dict) or resource.get("algorithm") != ALGORITHM or not all(
            isinstance(resource.get(key, ""), str) for key in ("ciphertext", "nonce", "associated_data")):
        raise Rejected(400, "the resource is missing or not AEAD_AES_256_GCM")
    plaintext = decrypt(apiv3_key, resource.get("ciphertext", ""), resource.get("associated_data", ""),
                        resource.get("nonce", ""))
    return {"id": envelope.get("id"), "event_type": envelope.get("event_type"),
            "create_time": envelope.get("create_time"),
            "resource": _object(plaintext, "the resource is not a JSON object")}


# --- our requests to the API ---------------------------------------------------------

def authorization(mchid, serial_no, private_key, method, path, body, timestamp=None, iv=None):
    """The Authorization header of an APIv3 request; `path` includes any query string."""
    timestamp = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
    iv = iv or nonce()
    signature = sign(private_key, signed_text(method.upper(), path, timestamp, iv, body))
    return (f'{SCHEME} mchid="{mchid}",nonce_str="{iv}",signature="{signature}",'
            f'timestamp="{timestamp}",serial_no="{serial_no}"')


def jsapi_pay_params(appid, prepay_id, private_key, timestamp=None, iv=None):
    """What the mini-program hands to wx.requestPayment for a prepay id."""
    timestamp = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
    iv = iv or nonce()
    package = f"prepay_id={prepay_id}"
    return {"appId": appid, "timeStamp": timestamp, "nonceStr": iv, "package": package,
            "signType": "RSA",
            "paySign": sign(private_key, signed_text(appid, timestamp, iv, package))}


def _json(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _object(text, complaint):
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        raise Rejected(400, complaint) from None
    if not isinstance(value, dict):
        raise Rejected(400, complaint)
    return value
