"""Money is an integer number of fen (分)."""


def check_fen(value, field="amount"):
    from plumbing.errors import BadRequest
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequest("invalid_amount", f"{field} must be a whole, non-negative number of fen")
    return value


def yuan(fen):
    """Display form: 1999 -> '19.99'."""
    return f"{fen // 100}.{fen % 100:02d}"
