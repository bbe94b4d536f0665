"""A merchant's campaigns: creating, editing and invalidating them, the checks a campaign
must pass against our product copy, and the announcement (`campaign_changed`) of each
change."""
from plumbing import clock
from services.teams import domain, store, views
from services.teams.models import Campaign


def create(db, products, merchant_id, fields):
    """A new campaign; `products` is a products.Refresher (the copy is made current first)."""
    products.refresh(merchant_id, fields["product_id"])
    now = clock.now()
    _check(db, merchant_id, fields, now)
    campaign = Campaign(merchant_id=merchant_id, created_at=now, updated_at=now, **fields)
    db.session.add(campaign)
    return _announce(db, campaign, now)


def update(db, products, merchant_id, campaign_id, change):
    campaign = store.owned_campaign(db.session, merchant_id, campaign_id, lock=True)
    now = clock.now()
    status = views.campaign_status(campaign, now)
    fields, changed = domain.plan_edit(status, views.campaign_fields(campaign), change)
    if not changed:
        return view(db, campaign, now)
    if status == domain.NOT_STARTED:
        products.refresh(merchant_id, fields["product_id"])
        _check(db, merchant_id, fields, now, campaign.id)
    for name in changed:
        setattr(campaign, name, fields[name])
    campaign.updated_at = now
    return _announce(db, campaign, now)


def invalidate(db, merchant_id, campaign_id):
    campaign = store.owned_campaign(db.session, merchant_id, campaign_id, lock=True)
    now = clock.now()
    if not domain.needs_invalidation(views.campaign_status(campaign, now)):
        return view(db, campaign, now)
    campaign.invalidated_at = campaign.updated_at = now
    return _announce(db, campaign, now)


def view(db, campaign, now):
    titles = store.product_titles(db.session, {campaign.product_id})
    return views.campaign(campaign, now, titles.get(campaign.product_id))


def _check(db, merchant_id, fields, now, campaign_id=None):
    """The product (locked, so two campaigns for it cannot slip in side by side) is the
    merchant's and on sale, the fields fit it, and no other live campaign runs on it."""
    session = db.session
    product = store.product_copy(session, fields["product_id"], lock=True)
    domain.check_campaign_product(merchant_id, product.merchant_id, product.status)
    domain.check_campaign(fields, product.skus, now)
    domain.check_no_overlap(store.live_campaign_ids(session, product.id, now, campaign_id))


def _announce(db, campaign, now):
    db.session.flush()
    db.emit(views.campaign_changed(campaign))
    return view(db, campaign, now)
