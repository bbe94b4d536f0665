"""Settings of the accounts service alone (the shared ones are in plumbing.settings);
documented in README.md ("Settings", "Rate limits and lockouts")."""
from plumbing.settings import env
from services.accounts import domain

# Failed staff logins that lock a scope out, "failures/window seconds" ("-": never).
DEFAULT_LOCKOUT_THRESHOLDS = {domain.PAIR: "5/900", domain.USERNAME: "20/900",
                              domain.ADDRESS: "50/900"}


def lockout_thresholds():
    """{scope: Threshold} from PINTUAN_STAFF_LOCKOUT_PAIR, _USERNAME and _ADDRESS; a scope
    set to "-" is not counted."""
    thresholds = {}
    for scope, default in DEFAULT_LOCKOUT_THRESHOLDS.items():
        text = env(f"PINTUAN_STAFF_LOCKOUT_{scope.upper()}", default).strip()
        if text != "-":
            thresholds[scope] = domain.Threshold.parse(text)
    return thresholds


def lockout_seconds():
    """PINTUAN_STAFF_LOCKOUT_SECONDS: how long a lockout lasts."""
    seconds = int(env("PINTUAN_STAFF_LOCKOUT_SECONDS", "900"))
    if seconds < 1:
        raise ValueError("PINTUAN_STAFF_LOCKOUT_SECONDS must be at least 1")
    return seconds
