"""Queries of the notify service: every read and write of its tables, no rules."""
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from services.notify.models import Notification

UNIQUE_KEY = ("source_event_id", "user_id", "kind")


def _insert(session):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Notification)


def add_messages(session, source_event_id, messages, now):
    """Stores an event's messages; a message already stored for this event, user and
    kind is left as it is (ON CONFLICT DO NOTHING). Returns how many were new."""
    if not messages:
        return 0
    rows = [{"user_id": m.user_id, "kind": m.kind, "title": m.title, "body": m.body,
             "link": m.link, "source_event_id": source_event_id, "created_at": now}
            for m in messages]
    result = session.execute(_insert(session).values(rows)
                             .on_conflict_do_nothing(index_elements=list(UNIQUE_KEY)))
    return result.rowcount


def _of_user(user_id):
    return sa.select(Notification).where(Notification.user_id == user_id)


def page_of(session, user_id, page, page_size):
    """-> (the user's messages on this page, newest first; how many they have in all)."""
    total = session.scalar(sa.select(sa.func.count()).select_from(Notification)
                           .where(Notification.user_id == user_id))
    rows = session.scalars(_of_user(user_id)
                           .order_by(Notification.created_at.desc(), Notification.id.desc())
                           .limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total


def unread_count(session, user_id):
    return session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)))


def mark_read(session, user_id, ids, now):
    """Marks the user's unread messages read: all of them, or those among `ids`.
    Ids of other users' messages, or of none, match nothing."""
    query = sa.update(Notification).where(Notification.user_id == user_id,
                                          Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    session.execute(query.values(read_at=now))
