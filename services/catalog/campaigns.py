"""Catalog's copy of teams' campaigns (their windows and group prices, from
`campaign_changed`), from which a product's group-buy flag is worked out when asked."""
from datetime import datetime, timezone

from plumbing import clock
from services.catalog import domain, store, views
from services.catalog.models import ProductCampaign


def keep(db, event):
    """The event's campaign into our copy; domain.campaign_copy decides what a late or
    repeated event may change."""
    data = event.data
    incoming = {"product_id": data.product_id, "starts_at": data.starts_at,
                "ends_at": data.ends_at, "invalidated": data.invalidated,
                "group_prices": [price.model_dump() for price in data.skus],
                "changed_at": _occurred_at(event)}
    row = store.campaign(db.session, data.id)
    copy = domain.campaign_copy(views.campaign(row) if row else None, incoming)
    if row is None:
        db.session.add(ProductCampaign(id=data.id, **copy))
    else:
        for field, value in copy.items():
            setattr(row, field, value)


def _occurred_at(event):
    """When the producer emitted the event; None when the envelope does not say."""
    if not event.occurred_at:
        return None
    return clock.aware(datetime.fromisoformat(event.occurred_at)).astimezone(timezone.utc)
