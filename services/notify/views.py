"""What the notify service answers: rows turned into plain JSON-able dicts."""
from plumbing.clock import isoformat
from plumbing.paging import page


def notification(row):
    return {"id": row.id, "kind": row.kind, "title": row.title, "body": row.body,
            "link": row.link, "created_at": isoformat(row.created_at),
            "read": row.read_at is not None}


def inbox_page(rows, total, unread, page_number, page_size):
    return page([notification(row) for row in rows], total, page_number, page_size,
                unread=unread)
