"""What the teams service answers and announces: rows turned into plain JSON-able dicts.

A team shows its members as leader flag and join time only: never a phone number or an
address (teams does not even hold them). The public team page and the shared link show
no user id either (a user id is a handle on someone); the merchant's list does.
"""
from contract import events
from plumbing.clock import aware, isoformat
from plumbing.paging import page  # noqa: F401  (views.page: a listing's page)
from services.teams import domain

SHARE_PATH = "/api/v1/teams/share/{token}"


def product_copy(copy):
    return {"id": copy.id, "version": copy.version, "merchant_id": copy.merchant_id,
            "title": copy.title, "cover_image": copy.cover_image, "status": copy.status,
            "skus": copy.skus}


# --- campaigns -----------------------------------------------------------------

def campaign_status(campaign, now):
    return domain.campaign_status(aware(campaign.starts_at), aware(campaign.ends_at),
                                  campaign.invalidated_at is not None, now)


def campaign_fields(campaign):
    """The editable fields, as the schemas load them (to merge an edit over)."""
    return {"product_id": campaign.product_id, "starts_at": aware(campaign.starts_at),
            "ends_at": aware(campaign.ends_at), "team_size": campaign.team_size,
            "validity_seconds": campaign.validity_seconds,
            "per_user_limit": campaign.per_user_limit, "skus": _skus(campaign)}


def _skus(campaign):
    return [{"sku_id": sku["sku_id"], "group_price": sku["group_price"]}
            for sku in campaign.skus]


def campaign(row, now, title=None):
    """A campaign for its merchant; `title` is the product's, from the copy."""
    return {"id": row.id, "merchant_id": row.merchant_id, "product_id": row.product_id,
            "title": title, "status": campaign_status(row, now),
            "starts_at": isoformat(row.starts_at), "ends_at": isoformat(row.ends_at),
            "team_size": row.team_size, "validity_seconds": row.validity_seconds,
            "per_user_limit": row.per_user_limit, "skus": _skus(row),
            "invalidated_at": isoformat(row.invalidated_at),
            "created_at": isoformat(row.created_at), "updated_at": isoformat(row.updated_at)}


def campaign_changed(row):
    """Catalog derives the group-buy flag from it."""
    return events.CampaignChanged(
        id=row.id, product_id=row.product_id, starts_at=aware(row.starts_at),
        ends_at=aware(row.ends_at), invalidated=row.invalidated_at is not None,
        skus=[events.GroupPrice(**sku) for sku in _skus(row)])


def shopper_campaign(row, now):
    """The campaign on a product page."""
    return {"id": row.id, "status": campaign_status(row, now),
            "starts_at": isoformat(row.starts_at), "ends_at": isoformat(row.ends_at),
            "team_size": row.team_size, "validity_seconds": row.validity_seconds,
            "per_user_limit": row.per_user_limit, "skus": _skus(row)}


# --- seats and teams ----------------------------------------------------------------

def seat(row, team, merchant_id):
    """The answer to open_team / join_team (and to their replays)."""
    return {"order_id": row.order_id, "team_id": team.id, "team_status": team.status,
            "campaign_id": team.campaign_id, "product_id": team.product_id,
            "merchant_id": merchant_id,
            "sku_id": row.sku_id, "quantity": row.quantity, "unit_price": row.unit_price,
            "title": row.title, "spec": row.spec, "hold_until": isoformat(row.hold_until),
            "seat_state": row.state}


def released(order_id, row):
    return {"order_id": order_id, "released": row is not None and row.state == domain.RELEASED,
            "seat_state": row.state if row is not None else None}


def _members(seats, with_user_ids):
    paid = [s for s in seats if s.state == domain.PAID]
    paid.sort(key=lambda s: (not s.is_leader, aware(s.paid_at), s.id))
    return [{**({"user_id": s.user_id} if with_user_ids else {}), "is_leader": s.is_leader,
             "joined_at": isoformat(s.paid_at)} for s in paid]


def order_ids(team, seats):
    return [s.order_id for s in seats if domain.in_team(s.state, s.is_leader, team.status)]


def _seats_left(team, now):
    return domain.seats_left(team.status, team.seats_taken, team.team_size,
                             aware(team.deadline), now)


def team(row, now, seats=None):
    """The team page, which anyone may read: no user ids (the order ids are for the
    services; the gateway does not show them)."""
    seats = row.seats if seats is None else seats
    return {"id": row.id, "status": row.status, "campaign_id": row.campaign_id,
            "product_id": row.product_id, "team_size": row.team_size,
            "member_count": row.paid_count, "seats_left": _seats_left(row, now),
            "opened_at": isoformat(row.opened_at), "expires_at": isoformat(row.deadline),
            "share_token": row.share_token, "members": _members(seats, with_user_ids=False),
            "order_ids": order_ids(row, seats)}


def admin_team(row, now):
    """A line of the merchant's 团单列表: who is in it, too."""
    seats = row.seats
    return {**team(row, now, seats), "leader_id": row.leader_id,
            "members": _members(seats, with_user_ids=True),
            "created_at": isoformat(row.created_at), "closed_at": isoformat(row.closed_at)}


def joinable_team(row, now):
    return {"id": row.id, "member_count": row.paid_count,
            "seats_left": _seats_left(row, now), "expires_at": isoformat(row.deadline)}


def group_buy(campaign_row, teams, now):
    return {"campaign": shopper_campaign(campaign_row, now) if campaign_row else None,
            "joinable_teams": [joinable_team(row, now) for row in teams]}


def share_path(token):
    return SHARE_PATH.format(token=token)


def share(team_row, campaign_row, product, now):
    """The shared link's page: the team, what it sells at which price, and which of the
    join / full / ended (/ pending) pages to show."""
    prices = {sku["id"]: sku for sku in (product.skus if product else [])}
    return {
        "team": team(team_row, now),
        "product": {"id": team_row.product_id, "title": product.title if product else None,
                    "cover_image": product.cover_image if product else None},
        "campaign": {"id": campaign_row.id, "status": campaign_status(campaign_row, now),
                     "team_size": campaign_row.team_size,
                     "skus": [{**sku, "spec": prices.get(sku["sku_id"], {}).get("spec"),
                               "price": prices.get(sku["sku_id"], {}).get("price")}
                              for sku in _skus(campaign_row)]},
        "view": domain.share_view(team_row.status, team_row.seats_taken, team_row.team_size,
                                  aware(team_row.deadline), now),
        "share_path": share_path(team_row.share_token),
    }


# --- events ------------------------------------------------------------------------

def team_opened(row):
    return events.TeamOpened(
        team_id=row.id, campaign_id=row.campaign_id, product_id=row.product_id,
        leader_id=row.leader_id, opened_at=aware(row.opened_at), deadline=aware(row.deadline),
        team_size=row.team_size, share_token=row.share_token)


def seat_paid(row, team_row):
    return events.SeatPaid(team_id=team_row.id, order_id=row.order_id, user_id=row.user_id,
                           member_count=team_row.paid_count, team_size=team_row.team_size,
                           leader_id=team_row.leader_id)


def team_succeeded(row, seats):
    paid = [s for s in seats if s.state == domain.PAID]
    return events.TeamSucceeded(team_id=row.id, order_ids=[s.order_id for s in paid],
                                user_ids=[s.user_id for s in paid])


def team_failed(row, paid, unpaid):
    return events.TeamFailed(team_id=row.id, paid_order_ids=[s.order_id for s in paid],
                             unpaid_order_ids=[s.order_id for s in unpaid],
                             user_ids=[s.user_id for s in paid])


def team_cancelled(row, seats):
    return events.TeamCancelled(team_id=row.id, order_ids=[s.order_id for s in seats])


def seat_refused(order_id, team_id, reason):
    return events.SeatRefused(order_id=order_id, team_id=team_id, reason=reason)


def group_prices(campaign):
    """[{campaign_id, sku_id, group_price}] of a campaign (none without one)."""
    if campaign is None:
        return []
    return [{"campaign_id": campaign.id, "sku_id": sku["sku_id"], "group_price": sku["group_price"]}
            for sku in campaign.skus]
