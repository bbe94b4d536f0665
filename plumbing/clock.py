"""One source of "now", UTC and timezone-aware. Tests move it with time-machine."""
from datetime import datetime, timezone


def now():
    return datetime.now(timezone.utc)


def isoformat(moment):
    """ISO 8601 in UTC with a Z, or None."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; we only store UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def aware(moment):
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment
