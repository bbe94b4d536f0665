"""The outbox and inbox tables every service database carries.

Outbox: an event row written in the same transaction as the state change it
reports; the relay publishes it afterwards (at least once).
Inbox: the ids of events a handler has already applied, written in the
handler's own transaction, so a redelivered event changes nothing.
"""
import json
import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from plumbing import clock

metadata = sa.MetaData()

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("request_id", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Index("ix_outbox_unpublished", "seq",
             postgresql_where=sa.text("published_at IS NULL"),
             sqlite_where=sa.text("published_at IS NULL")),
)

inbox = sa.Table(
    "inbox", metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("handler", sa.String(200), primary_key=True),
    sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
)


def create_tables(op):
    """Used by each service's first Alembic migration."""
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["seq"],
                    postgresql_where=sa.text("published_at IS NULL"),
                    sqlite_where=sa.text("published_at IS NULL"))
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("handler", sa.String(200), primary_key=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
    )


def drop_tables(op):
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")


def envelope(event, event_id=None, occurred_at=None):
    """The message body of a declared event (see the contract package): its payload,
    checked against its declaration when it was built, and its version."""
    return {"event_id": event_id or str(uuid.uuid4()), "type": event.name,
            "version": event.event_version, "occurred_at": clock.isoformat(occurred_at or clock.now()),
            "data": event.to_data()}


def add_event(session, event, request_id=None):
    """Record a declared event in the caller's transaction; returns its id."""
    body = envelope(event)
    session.execute(outbox.insert().values(
        event_id=body["event_id"], event_type=event.name,
        payload=json.dumps(body, ensure_ascii=False),
        request_id=request_id, created_at=clock.now()))
    return body["event_id"]


def claim_event(session, event_id, handler):
    """True the first time `handler` sees `event_id` in this database.

    The row is part of the handler's transaction: if the handler fails, the claim
    is rolled back with everything else and the retry finds it free again.
    """
    exists = session.execute(sa.select(inbox.c.event_id).where(
        inbox.c.event_id == event_id, inbox.c.handler == handler)).first()
    if exists:
        return False
    try:
        with session.begin_nested():
            session.execute(inbox.insert().values(
                event_id=event_id, handler=handler, handled_at=clock.now()))
    except IntegrityError:  # a concurrent delivery of the same event won
        return False
    return True


def backlog(session):
    return session.execute(sa.select(sa.func.count()).select_from(outbox)
                           .where(outbox.c.published_at.is_(None))).scalar_one()
