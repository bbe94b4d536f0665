"""Money is an integer number of fen (分)."""

# The most one order (and so one payment) may come to: ten million yuan. WeChat Pay takes
# an amount as a 32-bit int; this stays well inside it, and inside every money column
# (64-bit), however many units are bought.
MAX_ORDER_FEN = 1_000_000_000


def check_fen(value, field="amount"):
    from plumbing.errors import BadRequest
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequest("invalid_amount", f"{field} must be a whole, non-negative number of fen")
    return value


def order_amount(unit_price, quantity):
    """unit_price × quantity, or BadRequest `order_amount_too_large` above MAX_ORDER_FEN."""
    from plumbing.errors import BadRequest
    amount = unit_price * quantity
    if amount > MAX_ORDER_FEN:
        most = MAX_ORDER_FEN // unit_price
        raise BadRequest("order_amount_too_large",
                         f"One order may come to at most {yuan(MAX_ORDER_FEN)} yuan; at "
                         f"{yuan(unit_price)} yuan each that is {most} at most.",
                         details={"quantity": [f"At most {most} at this price."]})
    return amount


def yuan(fen):
    """Display form: 1999 -> '19.99'."""
    return f"{fen // 100}.{fen % 100:02d}"
