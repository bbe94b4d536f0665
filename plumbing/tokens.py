"""Bearer tokens: signed by accounts (Ed25519 private key), checked at the gateway
(public key only), so the edge can verify without being able to mint.

Keys come from `PINTUAN_TOKEN_PRIVATE_KEY_FILE` / `PINTUAN_TOKEN_PUBLIC_KEY_FILE`.
Outside production, a missing key pair is generated once under var/keys/.
"""
import fcntl
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from plumbing import settings
from plumbing.errors import Unauthorized

ISSUER = "pintuan-accounts"
ROLES = ("customer", "merchant", "ops")


def _dev_key_paths():
    folder = settings.var_dir() / "keys"
    return folder / "token_ed25519.pem", folder / "token_ed25519.pub.pem"


def _ensure_dev_keys():
    """Several services may start at once: the first to take the lock makes the pair."""
    private_path, public_path = _dev_key_paths()
    if private_path.exists():
        return private_path, public_path
    private_path.parent.mkdir(parents=True, exist_ok=True)
    with open(private_path.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not private_path.exists():
            _write_key_pair(private_path, public_path)
    return private_path, public_path


def _write_key_pair(private_path, public_path):
    # public first: readers take "private exists" to mean the pair is complete
    key = Ed25519PrivateKey.generate()
    public_path.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    private_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    private_path.chmod(0o600)


def _key_file(variable, index):
    configured = settings.env(variable)
    if configured:
        return Path(configured)
    if settings.is_production():
        raise RuntimeError(f"{variable} must be set in production")
    return _ensure_dev_keys()[index]


def private_key():
    return _key_file("PINTUAN_TOKEN_PRIVATE_KEY_FILE", 0).read_bytes()


def public_key():
    return _key_file("PINTUAN_TOKEN_PUBLIC_KEY_FILE", 1).read_bytes()


def ttl_seconds():
    return int(settings.env("PINTUAN_TOKEN_TTL_SECONDS", str(7 * 24 * 3600)))


def sign(user_id, roles, key=None, now=None):
    issued = int(now if now is not None else time.time())
    claims = {"sub": str(user_id), "roles": list(roles), "iss": ISSUER,
              "iat": issued, "exp": issued + ttl_seconds()}
    return jwt.encode(claims, key or private_key(), algorithm="EdDSA")


def verify(token, key=None):
    """-> {"user_id": int, "roles": [...]}, or Unauthorized."""
    try:
        claims = jwt.decode(token, key or public_key(), algorithms=["EdDSA"], issuer=ISSUER,
                            options={"require": ["exp", "sub", "iss"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token_expired", "The token has expired; log in again.")
    except jwt.InvalidTokenError:
        raise Unauthorized("invalid_token", "The token is not valid.")
    return {"user_id": int(claims["sub"]), "roles": list(claims.get("roles", []))}
