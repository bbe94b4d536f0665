"""Reads and writes of our payments tables, for the entrypoints in service.py.

Functions take the worker's session and never commit. The sandbox's tables are
not read here: they belong to the (simulated) provider.
"""
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from plumbing import clock
from plumbing.db import due_rows
from plumbing.errors import NotFound
from services.payments import domain
from services.payments.models import LedgerMovement, LedgerPosting, Payment, Refund

# --- payments -----------------------------------------------------------------------


def _one(session, query, lock):
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def payment_for_order(session, order_id, lock=False):
    return _one(session, sa.select(Payment).where(Payment.order_id == order_id), lock)


def existing_payment(session, order_id, lock=False):
    payment = payment_for_order(session, order_id, lock)
    if payment is None:
        raise NotFound("payment_not_found", f"Order {order_id} has no payment.")
    return payment


def payment_by_trade(session, out_trade_no, lock=False):
    return _one(session, sa.select(Payment).where(Payment.out_trade_no == out_trade_no), lock)


def payment_by_id(session, payment_id, lock=False):
    return _one(session, sa.select(Payment).where(Payment.id == payment_id), lock)


def order_with_key(session, idempotency_key):
    """The order a create_payment idempotency key was first used for, or None."""
    if idempotency_key is None:
        return None
    return session.scalar(sa.select(Payment.order_id)
                          .where(Payment.idempotency_key == idempotency_key))


def claim_payment(session, args):
    """The new payment, or None when a concurrent call for the same order (or with the
    same key) got there first: PostgreSQL holds our INSERT on the unique index until
    that transaction ends, then refuses it."""
    payment = Payment(order_id=args.order_id, user_id=args.user_id, amount=args.amount,
                      description=args.description, idempotency_key=args.idempotency_key,
                      status=domain.CREATED, out_trade_no=uuid.uuid4().hex, created_at=clock.now())
    try:
        with session.begin_nested():
            session.add(payment)
    except IntegrityError:
        return None
    return payment


# --- refunds ------------------------------------------------------------------------

def refund_by_key(session, refund_key):
    return session.scalars(sa.select(Refund).where(Refund.refund_key == refund_key)).first()


def refund_by_out_no(session, out_refund_no, lock=False):
    return _one(session, sa.select(Refund).where(Refund.out_refund_no == out_refund_no), lock)


def refund_by_id(session, refund_id, lock=False):
    return _one(session, sa.select(Refund).where(Refund.id == refund_id), lock)


def refunds_of(session, payment_id):
    return session.scalars(sa.select(Refund).where(Refund.payment_id == payment_id)
                           .order_by(Refund.id)).all()


def pending_refund_total(session, payment_id):
    """Fen asked back that the provider has not yet paid out (nor refused)."""
    return session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0)).where(
        Refund.payment_id == payment_id, Refund.status.in_(domain.PENDING_REFUNDS)))


def add_refund(session, payment, args, first_attempt_at):
    """The new refund, or None when the same refund key was taken concurrently."""
    now = clock.now()
    refund = Refund(payment_id=payment.id, order_id=payment.order_id, amount=args.amount,
                    reason=args.reason, refund_key=args.refund_key,
                    out_refund_no=uuid.uuid4().hex, status=domain.REQUESTED, attempts=0,
                    next_attempt_at=first_attempt_at, created_at=now, requested_at=now)
    try:
        with session.begin_nested():
            session.add(refund)
    except IntegrityError:
        return None
    return refund


def due_refunds(session, now):
    """Refunds the provider has not taken yet whose next try is due, locked for this
    replica (the others skip them)."""
    return due_rows(session, sa.select(Refund).where(
        Refund.status == domain.REQUESTED, Refund.next_attempt_at <= now).order_by(Refund.id))


def stuck_condition(now, policy):
    """domain.is_stuck as SQL."""
    return sa.or_(Refund.status == domain.FAILED, sa.and_(
        Refund.status.in_(domain.PENDING_REFUNDS),
        sa.or_(Refund.attempts >= policy.attempts,
               Refund.requested_at <= now - timedelta(seconds=policy.seconds))))


def _state_condition(state, now, policy):
    return {"stuck": stuck_condition(now, policy),
            "pending": Refund.status.in_(domain.PENDING_REFUNDS),
            "failed": Refund.status == domain.FAILED,
            "succeeded": Refund.status == domain.SUCCEEDED}[state]


def refund_page(session, state, now, policy, page, page_size):
    """-> (refunds, total) in `state` (None: all), oldest request first: the longest
    waiting shopper at the top."""
    query = sa.select(Refund)
    if state is not None:
        query = query.where(_state_condition(state, now, policy))
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Refund.requested_at, Refund.id)
                           .limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total


def refund_counts(session, now, policy):
    """{"refunds_pending", "refunds_stuck"} for the ledger check."""
    pending, stuck = session.execute(sa.select(
        sa.func.count().filter(Refund.status.in_(domain.PENDING_REFUNDS)),
        sa.func.count().filter(stuck_condition(now, policy)))).one()
    return {"refunds_pending": pending, "refunds_stuck": stuck}


# --- ledger -------------------------------------------------------------------------

def movement_exists(session, reference):
    return session.scalar(sa.select(sa.exists().where(LedgerMovement.reference == reference)))


def record_movement(session, kind, order_id, reference, amount):
    """Writes one movement with its postings; False if its reference is on record already."""
    postings = domain.postings(kind, order_id, amount)
    try:
        with session.begin_nested():
            movement = LedgerMovement(kind=kind, order_id=order_id, reference=reference,
                                      created_at=clock.now())
            session.add(movement)
            session.flush()
            session.add_all([LedgerPosting(movement_id=movement.id, account=posting.account,
                                           amount=posting.amount) for posting in postings])
    except IntegrityError:
        return False
    return True


def order_balance(session, order_id):
    sums = session.execute(
        sa.select(LedgerMovement.kind, sa.func.sum(LedgerPosting.amount))
        .join(LedgerPosting, LedgerPosting.movement_id == LedgerMovement.id)
        .where(LedgerMovement.order_id == order_id,
               LedgerPosting.account == domain.order_account(order_id))
        .group_by(LedgerMovement.kind)).all()
    return domain.order_balance({kind: int(total) for kind, total in sums})


def ledger_report(session):
    """For ops: how many movements, which do not balance, which orders went negative."""
    count = session.scalar(sa.select(sa.func.count()).select_from(LedgerMovement))
    unbalanced = session.scalars(
        sa.select(LedgerMovement.id)
        .outerjoin(LedgerPosting, LedgerPosting.movement_id == LedgerMovement.id)
        .group_by(LedgerMovement.id)
        .having(sa.or_(sa.func.count(LedgerPosting.id) < 2,
                       sa.func.coalesce(sa.func.sum(LedgerPosting.amount), 0) != 0))
        .order_by(LedgerMovement.id)).all()
    # an order account is credited (negative) when paid; above zero, it gave back more
    negative = session.scalars(
        sa.select(LedgerPosting.account).where(LedgerPosting.account.like("order:%"))
        .group_by(LedgerPosting.account).having(sa.func.sum(LedgerPosting.amount) > 0)).all()
    return {"movements": count, "balanced": not unbalanced, "unbalanced_movements": list(unbalanced),
            "orders_negative": sorted(int(account.split(":", 1)[1]) for account in negative)}
