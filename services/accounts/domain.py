"""Rules of the accounts service: pure functions, no I/O.

Who may log in where, when failed staff logins lock a login out, what a valid phone
or WeChat code looks like, how invite codes and default nicknames are made, and which
address is the default.
"""
import hashlib
import math
import re
import secrets
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta

from plumbing.errors import Conflict, Forbidden, TooManyRequests
from plumbing.ratelimit import Limit
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


# --- staff login lockout -------------------------------------------------------
# Failed staff logins are counted per (username, address), per username and per address.
# Reaching a threshold within its window locks that scope out for a while: every login
# there is refused before the password is looked at, so the right password does not
# get in either. The pair's lockout stops one guesser without locking the person out
# elsewhere; the username's stops a guess spread over many addresses; the address's
# stops one address trying many usernames.

PAIR, USERNAME, ADDRESS = "pair", "username", "address"
LOCKOUT_SCOPES = (PAIR, USERNAME, ADDRESS)


@dataclass(frozen=True)
class Threshold:
    """`failures` failed logins within `window_seconds` lock the scope out."""
    failures: int
    window_seconds: int

    @classmethod
    def parse(cls, text):
        """"5/900": 5 failures within 900 seconds (read like a rate limit)."""
        limit = Limit.parse(text)
        return cls(limit.calls, limit.seconds)


@dataclass(frozen=True)
class Failures:
    """One scope's count: failures since `window_started_at`, and its lockout if any."""
    count: int = 0
    window_started_at: datetime | None = None
    locked_until: datetime | None = None


def lockout_subjects(username, address):
    """{scope: subject} a staff login is counted under; a call without an address (not
    through the gateway) is counted per username only."""
    if address is None:
        return {USERNAME: username}
    return {PAIR: f"{username} {address}", USERNAME: username, ADDRESS: address}


def check_not_locked(failures, now):
    """Refuses the login while any of its scopes (Failures) is locked out."""
    remaining = [(f.locked_until - now).total_seconds() for f in failures
                 if f.locked_until is not None and f.locked_until > now]
    if remaining:
        retry_after = max(1, math.ceil(max(remaining)))
        raise TooManyRequests("login_locked",
                              f"Too many failed logins; try again in {retry_after} s.",
                              details={"retry_after": retry_after})


def after_failure(failures, threshold, lockout_seconds, now):
    """The scope's count after one more failed login. The window starts at the first
    failure; reaching the threshold inside it locks the scope out and starts afresh."""
    window_open = (failures.window_started_at is not None
                   and now - failures.window_started_at < timedelta(seconds=threshold.window_seconds))
    count, started = (failures.count + 1, failures.window_started_at) if window_open else (1, now)
    if count >= threshold.failures:
        return Failures(0, None, now + timedelta(seconds=lockout_seconds))
    return Failures(count, started, failures.locked_until)


def after_success(scope, failures):
    """A right password clears the failures of its (username, address): the person's own
    typos do not add up across days. The username's and the address's counts stay, so
    one good login does not give a spread-out guess a fresh start."""
    return Failures(locked_until=failures.locked_until) if scope == PAIR else failures


def windows_over_before(thresholds, now):
    """Counts whose window started before this moment, and not locked out now, no
    longer matter: their rows can go."""
    return now - timedelta(seconds=max(threshold.window_seconds for threshold in thresholds))


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
