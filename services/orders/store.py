"""Queries of the orders service: every read and write of its tables, no rules.

Orders are locked one at a time, or several in ascending id order, so concurrent
workers never deadlock.
"""
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from plumbing import clock
from plumbing.db import due_rows
from plumbing.errors import NotFound
from services.orders import domain
from services.orders.models import Order, OrderHistory


def not_found(order_id):
    return NotFound("order_not_found", f"There is no order {order_id}.")


# --- placing ---------------------------------------------------------------------------

def insert_placing(session, fields):
    """Writes a `placing` order; None if the same (user, idempotency key) got there first.
    Under PostgreSQL a concurrent twin's INSERT waits on the unique index until this
    transaction ends, then fails."""
    now = clock.now()
    order = Order(status=domain.PLACING, created_at=now, updated_at=now, **fields)
    try:
        with session.begin_nested():
            session.add(order)
    except IntegrityError:
        return None
    return order


def by_idempotency_key(session, user_id, key):
    return session.scalars(sa.select(Order).where(Order.user_id == user_id,
                                                  Order.idempotency_key == key)).first()


# --- reading -------------------------------------------------------------------------------

def lock(session, order_id):
    """The order, locked until the transaction ends (waiting for any holder), or None."""
    return session.scalars(sa.select(Order).where(Order.id == order_id)
                           .with_for_update().execution_options(populate_existing=True)).first()


def lock_many(session, order_ids):
    return session.scalars(sa.select(Order).where(Order.id.in_(sorted(set(order_ids))))
                           .order_by(Order.id).with_for_update()
                           .execution_options(populate_existing=True)).all()


def shown(session, order_id, user_id=None, merchant_id=None, lock_row=False):
    """The shopper's own order, or for the back office one of the merchant's shop;
    another shopper's or shop's, or one still placing, is as missing as one that never
    existed."""
    query = sa.select(Order).where(Order.id == order_id, Order.status != domain.PLACING)
    if user_id is None and merchant_id is None:
        raise ValueError("an order is shown to its shopper or its merchant")
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    if merchant_id is not None:
        query = query.where(Order.merchant_id == merchant_id)
    if lock_row:
        query = query.with_for_update().execution_options(populate_existing=True)
    order = session.scalars(query).first()
    if order is None:
        raise not_found(order_id)
    return order


def team_mates(session, orders):
    """{order id: the other shown orders of its team, by id}, in one query."""
    team_ids = {order.team_id for order in orders if order.team_id is not None}
    members = session.scalars(sa.select(Order).where(
        Order.team_id.in_(team_ids), Order.type == domain.TEAM,
        Order.status != domain.PLACING).order_by(Order.id)).all() if team_ids else []
    return {order.id: [member for member in members
                       if member.team_id == order.team_id and member.id != order.id]
            for order in orders}


def listing(session, page, page_size, user_id=None, merchant_id=None, status=None, type=None,
            team_id=None):
    """-> (orders, total), newest first; orders still placing are never listed."""
    query = sa.select(Order).where(Order.status != domain.PLACING)
    for column, value in ((Order.user_id, user_id), (Order.merchant_id, merchant_id),
                          (Order.status, status), (Order.type, type), (Order.team_id, team_id)):
        if value is not None:
            query = query.where(column == value)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Order.created_at.desc(), Order.id.desc())
                           .limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total


# --- timers ----------------------------------------------------------------------------

def unpaid_past_deadline(session, now):
    return due_rows(session, sa.select(Order).where(
        Order.status == domain.PENDING_PAYMENT, Order.pay_deadline <= now)
        .order_by(Order.pay_deadline, Order.id))


def shipped_before(session, moment):
    """Shipped orders whose shopper has not confirmed receipt since `moment`."""
    return due_rows(session, sa.select(Order).where(
        Order.status == domain.SHIPPED, Order.shipped_at <= moment)
        .order_by(Order.shipped_at, Order.id))


def abandoned_placing(session, now, timeout_seconds, limit=10):
    return due_rows(session, sa.select(Order).where(
        Order.status == domain.PLACING,
        Order.created_at <= now - timedelta(seconds=timeout_seconds))
        .order_by(Order.created_at, Order.id), limit=limit)


# --- writing -----------------------------------------------------------------------------

def move(session, order, to_status, reason=None):
    """Changes the order's status (checked by the domain) and records it in its history."""
    domain.check_transition(order.status, to_status)
    now = clock.now()
    session.add(OrderHistory(order_id=order.id, from_status=order.status, to_status=to_status,
                             reason=reason, at=now))
    order.status = to_status
    order.updated_at = now


def drop(session, order):
    session.delete(order)
    session.flush()
