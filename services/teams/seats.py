"""Seats: taking one (opening a team or joining one, idempotent by order id), releasing
it, and settling the order's payment (the seat is paid, the team opens, or the seat is
refused), each with the team's row locked.
"""
import secrets

from sqlalchemy.exc import IntegrityError

from plumbing import clock, money
from plumbing.clock import aware
from plumbing.errors import AppError
from services.teams import config, domain, outcomes, store, views
from services.teams.models import Seat, Team


def open_team(db, args):
    return _once(db, args, _open)


def join_team(db, args):
    return _once(db, args, _join)


def release(db, order_id):
    session, now = db.session, clock.now()
    team_id = store.seat_team_id(session, order_id)
    if team_id is None:
        return views.released(order_id, None)
    team = store.team(session, team_id, lock=True)
    seat = store.seat_by_order(session, order_id)
    outcome = domain.release_outcome(seat.state, seat.is_leader, team.status)
    if outcome != domain.IGNORE:
        _free(db, seat, team, domain.RELEASED, now)
    if outcome == domain.RELEASE_AND_CANCEL_TEAM:
        outcomes.cancel(db, team, seat, now)
    return views.released(order_id, seat)


def settle_payment(db, paid):
    """An order was paid (`paid`: the typed `order_paid` event): its seat is paid (the
    leader's opens the team), or refused when it can no longer count."""
    session, now = db.session, clock.now()
    team_id = store.seat_team_id(session, paid.order_id)
    if team_id is None:
        if paid.team_id is not None:  # a team order without a seat: refund it
            db.emit(views.seat_refused(paid.order_id, paid.team_id, "no_seat"))
        return  # otherwise a normal order, not ours
    team = store.team(session, team_id, lock=True)
    seat = store.seat_by_order(session, paid.order_id)
    action, reason = domain.payment_outcome(seat.state, seat.is_leader, team.status,
                                            aware(team.deadline), now)
    if action == domain.REFUSE:
        _refuse(db, seat, team, reason, now)
    elif action != domain.IGNORE:
        if action == domain.OPEN_AND_PAY:
            _open_for(db, team, paid.paid_at)
        _pay(db, seat, team, paid.paid_at, now)


def _once(db, args, take_seat):
    """open/join are idempotent by order id: a repeat, even one running at the same
    time as the first, answers what the first did and takes nothing more."""
    session = db.session
    seat = store.seat_by_order(session, args.order_id)
    if seat is None:
        try:
            with session.begin_nested():
                return take_seat(db, args)
        except (AppError, IntegrityError) as error:
            seat = store.seat_by_order(session, args.order_id)  # a twin's, just committed
            if seat is None:
                if isinstance(error, IntegrityError) and hasattr(args, "team_id") and \
                        store.holds_seat(session, args.team_id, args.user_id):
                    raise domain.already_in_team() from None  # joined twice at once
                raise
    team = store.team(session, seat.team_id)
    domain.check_same_seat({"order_id": seat.order_id, "user_id": seat.user_id,
                            "sku_id": seat.sku_id, "quantity": seat.quantity,
                            "campaign_id": team.campaign_id, "team_id": team.id},
                           args.as_kwargs())
    return views.seat(seat, team, store.campaign(session, team.campaign_id).merchant_id)


def _open(db, args):
    session, now = db.session, clock.now()
    campaign = store.campaign(session, args.campaign_id, lock=True, read=True)
    domain.check_can_open(views.campaign_status(campaign, now))
    price, product, sku = _priced(db, campaign, args)
    _take_quota(db, campaign, args)
    team = Team(campaign_id=campaign.id, product_id=campaign.product_id,
                leader_id=args.user_id, leader_order_id=args.order_id,
                team_size=campaign.team_size, validity_seconds=campaign.validity_seconds,
                status=domain.PENDING, seats_taken=1, paid_count=0,
                share_token=secrets.token_urlsafe(24), created_at=now)
    session.add(team)
    session.flush()
    hold = domain.hold_until(now, config.payment_window_seconds())
    return _seat(db, team, campaign, args, price, product.title, sku["spec"], hold, True, now)


def _join(db, args):
    session, now = db.session, clock.now()
    team = store.team(session, args.team_id)
    campaign = store.campaign(session, team.campaign_id)
    price, product, sku = _priced(db, campaign, args)
    if store.holds_seat(session, team.id, args.user_id):
        raise domain.already_in_team()
    _check_joinable(team, now)
    if not store.take_seat(session, team.id, now):
        _check_joinable(store.team(session, team.id, lock=True), now)
        raise domain.team_full()  # full a moment ago, a seat freed since: still refused
    team = store.team(session, team.id)  # re-read: our UPDATE changed and locked it
    _take_quota(db, campaign, args)
    hold = domain.hold_until(now, config.payment_window_seconds(), aware(team.deadline))
    return _seat(db, team, campaign, args, price, product.title, sku["spec"], hold, False, now)


def _priced(db, campaign, args):
    """The group price, and the title and spec the order shows, from the product copy.
    An order that would come to more than one order may is refused here, before any
    seat (or team) is taken."""
    price = domain.group_price(campaign.skus, args.sku_id)
    money.order_amount(price, args.quantity)
    product = store.product_copy(db.session, campaign.product_id)
    return price, product, domain.product_sku(product.skus, args.sku_id)


def _check_joinable(team, now):
    domain.check_joinable(team.status, team.seats_taken, team.team_size,
                          aware(team.deadline), now)


def _take_quota(db, campaign, args):
    if not store.take_quota(db.session, campaign.id, args.user_id,
                            args.quantity, campaign.per_user_limit):
        raise domain.limit_reached(campaign.per_user_limit)


def _seat(db, team, campaign, args, price, title, spec, hold_until, is_leader, now):
    seat = Seat(team_id=team.id, order_id=args.order_id, user_id=args.user_id,
                is_leader=is_leader, sku_id=args.sku_id, quantity=args.quantity,
                unit_price=price, title=title, spec=spec, state=domain.RESERVED,
                hold_until=hold_until, created_at=now)
    db.session.add(seat)
    db.session.flush()
    return views.seat(seat, team, campaign.merchant_id)


def _free(db, seat, team, target_state, now):
    """A reserved seat leaves the team: its place and its quantity are given back."""
    seat.state = domain.move_seat(seat.state, target_state)
    seat.released_at = now
    team.seats_taken -= 1
    store.return_quotas(db.session, {(team.campaign_id, seat.user_id): seat.quantity})


def _refuse(db, seat, team, reason, now):
    if seat.state == domain.RESERVED:
        _free(db, seat, team, domain.REFUSED, now)
    else:
        seat.state = domain.move_seat(seat.state, domain.REFUSED)
    seat.refused_reason = reason
    db.emit(views.seat_refused(seat.order_id, team.id, reason))


def _open_for(db, team, paid_at):
    """The leader paid: 开团成功, and the team's own clock starts."""
    team.status = domain.move_team(team.status, domain.OPEN)
    team.opened_at = paid_at
    team.deadline = domain.deadline_of(paid_at, team.validity_seconds)
    db.emit(views.team_opened(team))


def _pay(db, seat, team, paid_at, now):
    seat.state = domain.move_seat(seat.state, domain.PAID)
    seat.paid_at = paid_at
    team.paid_count += 1
    db.emit(views.seat_paid(seat, team))
    if domain.is_complete(team.paid_count, team.team_size):
        outcomes.succeed(db, team, now)
