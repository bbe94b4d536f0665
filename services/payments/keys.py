"""WeChat Pay keys, from files named by settings.

- `PINTUAN_WECHATPAY_APIV3_KEY_FILE`: the APIv3 key (32 ASCII characters) that
  encrypts notification resources.
- `PINTUAN_WECHATPAY_PLATFORM_PUBLIC_KEY_FILE`: the platform's public key (PEM),
  which checks notification and answer signatures; `..._PLATFORM_KEY_FILE`: its
  private key, which only the sandbox holds (it plays the platform).
- `PINTUAN_WECHATPAY_MERCHANT_KEY_FILE`: our merchant private key (real mode only).

For the sandbox outside production, missing APIv3 and platform keys are generated
once under var/keys/. The real mode never generates: its keys must be WeChat's.
"""
import fcntl
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from plumbing import settings
from services.payments import signing

APIV3 = "PINTUAN_WECHATPAY_APIV3_KEY_FILE"
PLATFORM_PRIVATE = "PINTUAN_WECHATPAY_PLATFORM_KEY_FILE"
PLATFORM_PUBLIC = "PINTUAN_WECHATPAY_PLATFORM_PUBLIC_KEY_FILE"
MERCHANT_PRIVATE = "PINTUAN_WECHATPAY_MERCHANT_KEY_FILE"
DEV_FILES = {APIV3: "wechatpay_apiv3.key", PLATFORM_PUBLIC: "wechatpay_platform.pub.pem",
             PLATFORM_PRIVATE: "wechatpay_platform.pem"}


def _dev_folder():
    return settings.var_dir() / "keys"


def _ensure_dev_keys():
    """Several processes may start at once: the first to take the lock writes the set.
    The private platform key is written last, so its presence means the set is complete."""
    folder = _dev_folder()
    if (folder / DEV_FILES[PLATFORM_PRIVATE]).exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".wechatpay.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / DEV_FILES[PLATFORM_PRIVATE]).exists():
            _write_dev_keys(folder)
    return folder


def _write_dev_keys(folder):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    apiv3_path = folder / DEV_FILES[APIV3]
    apiv3_path.write_text(signing.nonce(32))
    apiv3_path.chmod(0o600)
    (folder / DEV_FILES[PLATFORM_PUBLIC]).write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    private_path = folder / DEV_FILES[PLATFORM_PRIVATE]
    private_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    private_path.chmod(0o600)


def _path(variable, generate):
    configured = settings.env(variable)
    if configured:
        return Path(configured)
    if not generate or settings.is_production():
        raise RuntimeError(f"{variable} must name the key file.")
    return _ensure_dev_keys() / DEV_FILES[variable]


def _bytes(variable, generate):
    path = _path(variable, generate)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RuntimeError(f"{variable}: cannot read {path}: {exc.strerror}") from None


def apiv3_key(generate=False):
    key = _bytes(APIV3, generate).decode("utf-8", "replace").strip()
    if not (key.isascii() and len(key) == 32):
        raise RuntimeError(f"{APIV3} must hold the 32-character APIv3 key.")
    return key


def platform_public_key(generate=False):
    return serialization.load_pem_public_key(_bytes(PLATFORM_PUBLIC, generate))


def platform_private_key(generate=False):
    return serialization.load_pem_private_key(_bytes(PLATFORM_PRIVATE, generate), password=None)


def merchant_private_key():
    return serialization.load_pem_private_key(_bytes(MERCHANT_PRIVATE, False), password=None)
