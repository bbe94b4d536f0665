"""Queries of the teams service: every read and write of its tables, no rules.

Row locks are taken in this order, so concurrent workers never wait on each other in a
circle: a campaign, then a product copy, then a team, then its seats, then per-user
quota rows (several at once only in ascending (campaign_id, user_id)). A team's seats
change only while its row is locked, so a payment, a cancellation and the deadline job
touching one team run one after the other.
"""
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from plumbing.db import due_rows
from plumbing.errors import NotFound
from services.teams import domain
from services.teams.models import Campaign, CampaignQuota, ProductCopy, Seat, Team

teams_table = Team.__table__
quotas_table = CampaignQuota.__table__
FRESH = {"populate_existing": True}  # a locked read must not return stale objects


def _one(session, query, lock=False, read=False):
    if lock:
        query = query.with_for_update(read=read)
    return session.scalars(query.execution_options(**FRESH)).first()


# --- product copies ------------------------------------------------------------

def product_copy(session, product_id, lock=False):
    copy = _one(session, sa.select(ProductCopy).where(ProductCopy.id == product_id), lock)
    if copy is None:
        raise NotFound("product_not_found", f"There is no product {product_id}.")
    return copy


def product_titles(session, product_ids):
    """{product_id: title} of the copies we have."""
    if not product_ids:
        return {}
    return dict(session.execute(sa.select(ProductCopy.id, ProductCopy.title)
                                .where(ProductCopy.id.in_(product_ids))).all())


def product_copy_or_none(session, product_id, lock=False):
    return _one(session, sa.select(ProductCopy).where(ProductCopy.id == product_id), lock)


# --- campaigns -----------------------------------------------------------------

def campaign(session, campaign_id, lock=False, read=False):
    """`read=True` with `lock`: a share lock, which many openers hold at once while an
    edit or invalidation (FOR UPDATE) waits for them, and they for it."""
    found = _one(session, sa.select(Campaign).where(Campaign.id == campaign_id), lock, read)
    if found is None:
        raise NotFound("campaign_not_found", f"There is no campaign {campaign_id}.")
    return found


def owned_campaign(session, merchant_id, campaign_id, lock=False):
    """The merchant's campaign; another merchant's is as missing as a deleted one."""
    found = _one(session, sa.select(Campaign).where(Campaign.id == campaign_id,
                                                    Campaign.merchant_id == merchant_id), lock)
    if found is None:
        raise NotFound("campaign_not_found", f"There is no campaign {campaign_id}.")
    return found


def _live(now):
    return sa.and_(Campaign.invalidated_at.is_(None), Campaign.ends_at > now)


def live_campaign_ids(session, product_id, now, except_id=None):
    query = sa.select(Campaign.id).where(Campaign.product_id == product_id, _live(now))
    if except_id is not None:
        query = query.where(Campaign.id != except_id)
    return list(session.scalars(query))


def live_campaign(session, product_id, now):
    """The product's campaign that has not ended or been invalidated (at most one)."""
    return session.scalars(sa.select(Campaign).where(Campaign.product_id == product_id,
                                                     _live(now))
                           .order_by(Campaign.starts_at)).first()


def _status_condition(status, now):
    """domain.campaign_status as SQL, to filter a page by it."""
    valid = Campaign.invalidated_at.is_(None)
    return {
        domain.NOT_STARTED: sa.and_(valid, Campaign.starts_at > now),
        domain.ACTIVE: sa.and_(valid, Campaign.starts_at <= now, Campaign.ends_at > now),
        domain.ENDED: sa.and_(valid, Campaign.ends_at <= now),
        domain.INVALIDATED: Campaign.invalidated_at.is_not(None),
    }[status]


def merchant_campaigns(session, merchant_id, status, now, page, page_size):
    """-> (campaigns, total), newest first."""
    query = sa.select(Campaign).where(Campaign.merchant_id == merchant_id)
    if status is not None:
        query = query.where(_status_condition(status, now))
    total = _count(session, query)
    rows = session.scalars(query.order_by(Campaign.id.desc())
                           .limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total


def _count(session, query):
    return session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


# --- per-user quotas -------------------------------------------------------------

def take_quota(session, campaign_id, user_id, quantity, per_user_limit):
    """Adds to what the shopper holds in the campaign if it stays within the limit: one
    guarded UPDATE, so concurrent orders of one shopper queue on the row and the second
    re-checks what the first left. False when over the limit."""
    if quantity > per_user_limit:
        return False
    _ensure_quota_row(session, campaign_id, user_id)
    result = session.execute(
        sa.update(quotas_table)
        .where(quotas_table.c.campaign_id == campaign_id, quotas_table.c.user_id == user_id,
               quotas_table.c.quantity + quantity <= per_user_limit)
        .values(quantity=quotas_table.c.quantity + quantity))
    return result.rowcount == 1


def _ensure_quota_row(session, campaign_id, user_id):
    exists = session.execute(sa.select(quotas_table.c.user_id).where(
        quotas_table.c.campaign_id == campaign_id, quotas_table.c.user_id == user_id)).first()
    if exists:
        return
    try:
        with session.begin_nested():
            session.execute(sa.insert(quotas_table).values(
                campaign_id=campaign_id, user_id=user_id, quantity=0))
    except IntegrityError:  # a concurrent order of the same shopper made it first
        pass


def return_quotas(session, returns):
    """`returns`: {(campaign_id, user_id): quantity}; rows updated in key order."""
    for (campaign_id, user_id), quantity in sorted(returns.items()):
        if quantity:
            session.execute(
                sa.update(quotas_table)
                .where(quotas_table.c.campaign_id == campaign_id,
                       quotas_table.c.user_id == user_id)
                .values(quantity=quotas_table.c.quantity - quantity))


# --- teams ---------------------------------------------------------------------

def team(session, team_id, lock=False):
    found = _one(session, sa.select(Team).where(Team.id == team_id), lock)
    if found is None:
        raise NotFound("team_not_found", f"There is no team {team_id}.")
    return found


def team_with_seats(session, team_id):
    found = _one(session, sa.select(Team).where(Team.id == team_id)
                 .options(selectinload(Team.seats)))
    if found is None:
        raise NotFound("team_not_found", f"There is no team {team_id}.")
    return found


def team_by_token(session, token):
    found = session.scalars(sa.select(Team).where(Team.share_token == token)
                            .options(selectinload(Team.seats))).first()
    if found is None:
        raise NotFound("team_not_found", "This share link leads to no team.")
    return found


def take_seat(session, team_id, now):
    """Takes a seat of an open team if one is left before its deadline. One guarded
    UPDATE: concurrent joiners queue on the row and each re-checks the count the one
    before left, so a team is never over-filled. False when refused."""
    result = session.execute(
        sa.update(teams_table)
        .where(teams_table.c.id == team_id, teams_table.c.status == domain.OPEN,
               teams_table.c.seats_taken < teams_table.c.team_size,
               teams_table.c.deadline > now)
        .values(seats_taken=teams_table.c.seats_taken + 1))
    return result.rowcount == 1


def overdue_teams(session, now):
    """Open teams past their deadline, locked for this transaction and skipped by any
    other replica's deadline job."""
    return due_rows(session, sa.select(Team).where(Team.status == domain.OPEN,
                                                   Team.deadline <= now)
                    .order_by(Team.deadline, Team.id))


def joinable_teams(session, product_id, now, limit=10):
    """Open teams of the product with a seat left, the closest to its deadline first."""
    return session.scalars(
        sa.select(Team).where(Team.product_id == product_id, Team.status == domain.OPEN,
                              Team.deadline > now, Team.seats_taken < Team.team_size)
        .order_by(Team.deadline, Team.id).limit(limit)).all()


def merchant_teams(session, merchant_id, campaign_id, status, page, page_size):
    """-> (teams with their seats, total), newest first, of the merchant's campaigns."""
    query = (sa.select(Team).join(Campaign, Campaign.id == Team.campaign_id)
             .where(Campaign.merchant_id == merchant_id))
    if campaign_id is not None:
        query = query.where(Team.campaign_id == campaign_id)
    if status is not None:
        query = query.where(Team.status == status)
    total = _count(session, query)
    rows = session.scalars(query.options(selectinload(Team.seats)).order_by(Team.id.desc())
                           .limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total


# --- seats ---------------------------------------------------------------------

def seat_team_id(session, order_id):
    """The team an order holds a seat in, or None; reads no Seat object, so the seat
    read after locking that team is fresh."""
    return session.scalar(sa.select(Seat.team_id).where(Seat.order_id == order_id))


def seat_by_order(session, order_id):
    return _one(session, sa.select(Seat).where(Seat.order_id == order_id))


def holds_seat(session, team_id, user_id):
    return session.scalar(sa.select(Seat.id).where(
        Seat.team_id == team_id, Seat.user_id == user_id,
        Seat.state.in_(domain.HOLDING_SEAT_STATES))) is not None


def seats_of(session, team_ids):
    """{team_id: [seats by id]}."""
    seats = {team_id: [] for team_id in team_ids}
    if team_ids:
        for seat in session.scalars(sa.select(Seat).where(Seat.team_id.in_(team_ids))
                                    .order_by(Seat.id).execution_options(**FRESH)):
            seats[seat.team_id].append(seat)
    return seats
