"""Rules of the accounts service: pure functions, no I/O.

Who may log in where, what a valid phone or WeChat code looks like, how invite
codes and default nicknames are made, and which address is the default.
"""
import hashlib
import re
import secrets
from collections import namedtuple

from plumbing.errors import Conflict, Forbidden
from plumbing.tokens import ROLES

STAFF_ROLES = ("merchant", "ops")
MAX_ADDRESSES = 20
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128  # argon2 copes with more; this keeps one login cheap
MAX_WECHAT_CODE_LENGTH = 128

# Mainland mobile numbers: 11 digits, 13x to 19x.
MOBILE_PATTERN = re.compile(r"1[3-9][0-9]{9}")  # not \d: that matches full-width digits
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")

# No 0/O, 1/I/L: invite codes are read aloud and typed from screenshots.
INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
INVITE_CODE_LENGTH = 8

# --- roles -------------------------------------------------------------------


def parse_roles(stored):
    """"merchant,ops" -> ["merchant", "ops"]."""
    return [role for role in stored.split(",") if role]


def format_roles(roles):
    """Known roles, each once, in the canonical order of `ROLES`."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return ",".join(role for role in ROLES if role in roles)


def check_back_office_access(roles):
    """Only merchants and ops may use the merchant login."""
    if not set(roles) & set(STAFF_ROLES):
        raise Forbidden("not_staff", "This account may not use the merchant back office.")


# --- validation predicates (the schemas use them) ---------------------------


def is_mainland_mobile(value):
    return isinstance(value, str) and MOBILE_PATTERN.fullmatch(value) is not None


def is_valid_wechat_code(code):
    """A login code from wx.login(): 1-128 printable characters, no spaces."""
    return (isinstance(code, str) and 1 <= len(code) <= MAX_WECHAT_CODE_LENGTH
            and code.isprintable() and not any(char.isspace() for char in code))


def is_valid_username(value):
    return isinstance(value, str) and USERNAME_PATTERN.fullmatch(value) is not None


# --- new users --------------------------------------------------------------


def default_nickname(openid):
    """"微信用户" and four digits derived from the openid, so a user keeps the same
    default name however often it is shown before they choose one."""
    digest = hashlib.sha256(openid.encode("utf-8")).hexdigest()
    return f"微信用户{int(digest, 16) % 10000:04d}"


def new_invite_code(randbelow=secrets.randbelow):
    """A short random code (31^8, about 8.5e11 possibilities); the caller retries
    on the rare clash with an existing one."""
    return "".join(INVITE_ALPHABET[randbelow(len(INVITE_ALPHABET))]
                   for _ in range(INVITE_CODE_LENGTH))


def normalize_invite_code(raw):
    """The canonical form of a typed invite code, or None when it cannot be one
    (an unusable code is ignored at signup, never an error)."""
    if not isinstance(raw, str):
        return None
    code = raw.strip().upper()
    if len(code) != INVITE_CODE_LENGTH or any(char not in INVITE_ALPHABET for char in code):
        return None
    return code


# --- addresses --------------------------------------------------------------

AddressRef = namedtuple("AddressRef", "id created_at is_default")


def check_room_for_address(existing_count):
    if existing_count >= MAX_ADDRESSES:
        raise Conflict("address_limit_reached",
                       f"You can keep at most {MAX_ADDRESSES} addresses; delete one first.")


def new_address_is_default(existing_count, requested):
    """The first address is the default whatever was asked; later ones only when asked."""
    return existing_count == 0 or requested is True


def check_default_kept(is_default_now, requested):
    """A default is replaced by choosing another, never by unsetting it, so a user
    with addresses always has exactly one default."""
    if is_default_now and requested is False:
        raise Conflict("default_address_required",
                       "Choose another address as the default instead of unsetting this one.")


def successor_default(remaining):
    """After the default is deleted, the most recently added remaining address
    (AddressRef) takes over; None when nothing remains."""
    if not remaining:
        return None
    return max(remaining, key=lambda address: (address.created_at, address.id)).id
