"""What the notify service answers: rows turned into plain JSON-able dicts."""
from plumbing.clock import isoformat


def notification(row):
    return {"id": row.id, "kind": row.kind, "title": row.title, "body": row.body,
            "link": row.link, "created_at": isoformat(row.created_at),
            "read": row.read_at is not None}


def inbox_page(rows, total, unread, page, page_size):
    return {"items": [notification(row) for row in rows], "unread": unread, "total": total,
            "page": page, "page_size": page_size}
