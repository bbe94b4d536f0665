"""Payment, refund and ledger rules: pure functions, no I/O.

A payment (one per order) moves created -> succeeded when the provider's signed
TRANSACTION.SUCCESS arrives, or created -> closed when the order no longer wants it.
Money is never turned away: a payment that lands after the close still succeeds
(on record, and the order then returns it).

A refund moves requested -> processing (the provider took it) -> succeeded (its
REFUND.SUCCESS arrived) or failed (refused for good, closed or abnormal at the
provider); ops may send a failed one back to requested (a retry). A refusal that
means "not now" (the merchant's refundable balance is short, too many calls) keeps
it requested, tried again with backoff like an unreachable provider. A refund is
stuck when it failed, or when it is still not done after N tries or T seconds
(`StuckPolicy`): ops sees those and retries them.

The ledger is double-entry: each movement (one payment or one refund, named by a
unique reference, so a provider's duplicate notification records nothing twice)
has postings that sum to zero over `provider_cash` (money at the provider) and
`order:<id>` (money we hold for an order; credits are negative). An order's
balance is what was paid for it minus what was refunded; it never goes negative,
because a refund asks at most for the balance less the refunds still under way.
"""
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from plumbing.errors import Conflict

# --- payments --------------------------------------------------------------------

CREATED, SUCCEEDED, CLOSED = "created", "succeeded", "closed"
PAYMENT_STATUSES = (CREATED, SUCCEEDED, CLOSED)
PAID, CLOSE = "paid", "close"  # what can happen to a payment
PAYMENT_EVENTS = (PAID, CLOSE)

PAYMENT_MOVES = {
    (CREATED, PAID): SUCCEEDED,
    (CREATED, CLOSE): CLOSED,
    (CLOSED, PAID): SUCCEEDED,  # paid before the provider heard of the close: keep it on record
    (CLOSED, CLOSE): CLOSED,
}


def next_payment_status(status, event):
    """The payment's status after `event`, or Conflict `already_paid`: a succeeded
    payment can be neither closed nor paid a second time."""
    try:
        return PAYMENT_MOVES[(status, event)]
    except KeyError:
        raise Conflict("already_paid", "This order is already paid.") from None


def check_same_payment(existing_amount, existing_user_id, amount, user_id):
    """A repeated create_payment must describe the payment the first call made."""
    if existing_amount != amount:
        raise Conflict("payment_amount_mismatch",
                       f"This order's payment is for {existing_amount} fen, not {amount}.")
    if existing_user_id != user_id:
        raise Conflict("payment_user_mismatch", "This order's payment belongs to another user.")


def check_idempotency_key(key_order_id, order_id):
    if key_order_id is not None and key_order_id != order_id:
        raise Conflict("idempotency_key_reused",
                       "This idempotency key was already used for another order.")


def check_not_closed(status):
    if status == CLOSED:
        raise Conflict("payment_closed", "This order's payment was closed; it can no longer be paid.")


# transaction notices: what a TRANSACTION.SUCCESS does to the payment it names
RECORD, DUPLICATE, EXTRA = "record", "duplicate", "extra"


def transaction_outcome(status, already_recorded):
    """RECORD the payment (ledger, status, event); DUPLICATE: this transaction is on
    record, answer as before; EXTRA: a second transaction for a paid trade (WeChat
    never sends one): the ledger records the money, nobody is told it is paid twice."""
    if already_recorded:
        return DUPLICATE
    if status == SUCCEEDED:
        return EXTRA
    return RECORD


# --- refunds ---------------------------------------------------------------------

REQUESTED, PROCESSING, FAILED = "requested", "processing", "failed"
REFUND_STATUSES = (REQUESTED, PROCESSING, SUCCEEDED, FAILED)
ACCEPTED, SETTLED, REFUSED = "accepted", "settled", "refused"  # what the provider says
RETRY = "retry"  # what ops may do
REFUND_EVENTS = (ACCEPTED, SETTLED, REFUSED, RETRY)
PENDING_REFUNDS = (REQUESTED, PROCESSING)
LISTED_REFUND_STATES = ("stuck", "pending", "failed", "succeeded")  # what ops can list
# WeChat Pay refund errors that mean "not now": the merchant's refundable balance is short
# (it is topped up), too many calls, a passing fault. Any other refusal is final.
REFUSED_FOR_NOW = ("NOT_ENOUGH", "FREQUENCY_LIMITED", "SYSTEM_ERROR")

REFUND_MOVES = {
    (REQUESTED, ACCEPTED): PROCESSING,
    (PROCESSING, ACCEPTED): PROCESSING,  # a resubmission answered like the first
    (REQUESTED, SETTLED): SUCCEEDED,  # the notice overtook the provider's answer
    (PROCESSING, SETTLED): SUCCEEDED,
    (FAILED, SETTLED): SUCCEEDED,  # the provider says the money left: that is the fact
    (REQUESTED, REFUSED): FAILED,
    (PROCESSING, REFUSED): FAILED,
    (FAILED, REFUSED): FAILED,
    (FAILED, RETRY): REQUESTED,  # ops sends it again, under the same out_refund_no
    (REQUESTED, RETRY): REQUESTED,  # ops asks for the next try now
    (PROCESSING, RETRY): PROCESSING,  # resubmitted: the provider answers what it knows
}


def next_refund_status(status, event):
    try:
        return REFUND_MOVES[(status, event)]
    except KeyError:
        raise Conflict("refund_final", f"This refund is {status}; the provider cannot "
                                       f"report it {event} now.") from None


def refusal_is_final(code):
    """A refusal the provider would repeat however often it is asked."""
    return code not in REFUSED_FOR_NOW


def check_retry(status):
    """Ops may retry any refund that has not succeeded."""
    if status == SUCCEEDED:
        raise Conflict("refund_succeeded", "This refund has succeeded; there is nothing to retry.")
    return next_refund_status(status, RETRY)


@dataclass(frozen=True)
class StuckPolicy:
    """A refund not done after `attempts` tries, or `seconds` after it was (last)
    requested, is stuck."""
    attempts: int
    seconds: float


def is_stuck(status, attempts, requested_at, now, policy):
    if status == FAILED:
        return True
    if status not in PENDING_REFUNDS:
        return False
    return attempts >= policy.attempts or now - requested_at >= timedelta(seconds=policy.seconds)


def check_refund(payment_status, amount, balance, pending):
    """A refund needs a paid payment and at most the balance less the refunds under way."""
    if payment_status != SUCCEEDED:
        raise Conflict("payment_not_paid", "This order has not been paid; there is nothing to refund.")
    available = max(balance - pending, 0)
    if amount > available:
        raise Conflict("refund_exceeds_balance",
                       f"At most {available} fen of this order can be refunded.",
                       details={"amount": [f"At most {available} fen can be refunded."]})


def check_same_refund(existing_order_id, existing_amount, order_id, amount):
    """A refund key names one refund: a retry must ask for the same one."""
    if (existing_order_id, existing_amount) != (order_id, amount):
        raise Conflict("refund_key_reused",
                       "This refund key was already used for another refund.")


# --- retries ---------------------------------------------------------------------

def retry_delay(attempts, schedule):
    """Seconds to wait after the `attempts`-th failed try; the last step repeats."""
    return schedule[min(max(attempts, 1), len(schedule)) - 1]


def next_attempt_at(now, attempts, schedule):
    return now + timedelta(seconds=retry_delay(attempts, schedule))


# --- ledger ----------------------------------------------------------------------

PAYMENT_KIND, REFUND_KIND = "payment", "refund"
PROVIDER_CASH = "provider_cash"
Posting = namedtuple("Posting", "account amount")


def order_account(order_id):
    return f"order:{order_id}"


def payment_reference(transaction_id):
    return f"payment:{transaction_id}"


def refund_reference(out_refund_no):
    return f"refund:{out_refund_no}"


def postings(kind, order_id, amount):
    """A payment moves money into provider_cash, held for the order; a refund moves it back."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"a movement is a positive number of fen, not {amount!r}")
    sign = {PAYMENT_KIND: 1, REFUND_KIND: -1}[kind]
    return [Posting(PROVIDER_CASH, sign * amount), Posting(order_account(order_id), -sign * amount)]


def is_balanced(amounts):
    """A movement is whole when it has two sides or more and they cancel out."""
    amounts = list(amounts)
    return len(amounts) >= 2 and sum(amounts) == 0


def order_balance(order_sums):
    """`order_sums`: {movement kind: sum of the order account's postings of that kind}."""
    paid = -order_sums.get(PAYMENT_KIND, 0)
    refunded = order_sums.get(REFUND_KIND, 0)
    return {"paid": paid, "refunded": refunded, "balance": paid - refunded}


# --- provider notices ------------------------------------------------------------

PAYMENT_NOTICE, REFUND_NOTICE = "payment", "refund"
NOTICE_KINDS = (PAYMENT_NOTICE, REFUND_NOTICE)
TRANSACTION_SUCCESS = "TRANSACTION.SUCCESS"
REFUND_EVENT_TYPES = {"REFUND.SUCCESS": SETTLED, "REFUND.ABNORMAL": REFUSED,
                      "REFUND.CLOSED": REFUSED}

TransactionNotice = namedtuple("TransactionNotice", "out_trade_no transaction_id amount paid_at")
RefundNotice = namedtuple("RefundNotice",
                          "out_refund_no provider_refund_id event amount succeeded_at detail")


class BadNotice(ValueError):
    """A notification with a good signature whose content we cannot act on."""


def read_notice(kind, notification):
    """A verified, decrypted notification -> TransactionNotice or RefundNotice."""
    event_type, resource = notification.get("event_type"), notification.get("resource") or {}
    if kind == PAYMENT_NOTICE:
        if event_type != TRANSACTION_SUCCESS or resource.get("trade_state") != "SUCCESS":
            raise BadNotice(f"not a successful transaction: {event_type}")
        return TransactionNotice(_text(resource, "out_trade_no"), _text(resource, "transaction_id"),
                                 _fen(resource, "total"), _time(resource, "success_time"))
    if kind == REFUND_NOTICE:
        if event_type not in REFUND_EVENT_TYPES:
            raise BadNotice(f"not a refund outcome: {event_type}")
        event = REFUND_EVENT_TYPES[event_type]
        return RefundNotice(_text(resource, "out_refund_no"), _text(resource, "refund_id"), event,
                            _fen(resource, "refund"),
                            _time(resource, "success_time") if event == SETTLED else None,
                            str(resource.get("refund_status") or event_type))
    raise BadNotice(f"unknown notification kind {kind!r}")


def _text(resource, key):
    value = resource.get(key)
    if not isinstance(value, str) or not value or len(value) > 64:
        raise BadNotice(f"{key} is missing")
    return value


def _fen(resource, key):
    amount = resource.get("amount")
    value = amount.get(key) if isinstance(amount, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadNotice(f"amount.{key} is missing")
    return value


def _time(resource, key):
    try:
        moment = datetime.fromisoformat(resource[key])
    except (KeyError, TypeError, ValueError):
        raise BadNotice(f"{key} is missing") from None
    if moment.tzinfo is None:
        raise BadNotice(f"{key} has no time zone")
    return moment.astimezone(timezone.utc)
