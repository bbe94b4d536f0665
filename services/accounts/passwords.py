"""Staff passwords, hashed with argon2id (argon2-cffi's recommended parameters).

One hash takes a quarter of a second of CPU here. Run inline it would freeze the
whole eventlet hub (heartbeats, every other worker), so it runs in eventlet's
native thread pool; argon2-cffi releases the GIL while it works.
"""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool

_hasher = PasswordHasher()
_missing_user_hash = {}


def hash_password(password):
    return tpool.execute(_hasher.hash, password)


def verify_password(stored_hash, password):
    """True when `password` matches. With no stored hash (unknown user) a hash is
    still checked, so a wrong username takes as long as a wrong password."""
    if stored_hash is None:
        _check(_decoy_hash(), password)
        return False
    return _check(stored_hash, password)


def needs_rehash(stored_hash):
    """After the parameters are raised, old hashes are upgraded at the next login."""
    return _hasher.check_needs_rehash(stored_hash)


def _check(stored_hash, password):
    try:
        return tpool.execute(_hasher.verify, stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _decoy_hash():
    if "hash" not in _missing_user_hash:
        _missing_user_hash["hash"] = hash_password("no user has this password")
    return _missing_user_hash["hash"]
