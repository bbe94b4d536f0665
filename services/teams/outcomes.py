"""How a team ends: it succeeds when its last seat is paid, fails past its deadline
(拼团失败, the deadline job), or is cancelled when its leader's unpaid order goes."""
from collections import defaultdict

from plumbing import clock
from plumbing.clock import aware
from services.teams import domain, store, views


def succeed(db, team, now):
    team.status = domain.move_team(team.status, domain.SUCCEEDED)
    team.closed_at = now
    db.emit(views.team_succeeded(team, team.seats))


def cancel(db, team, leader_seat, now):
    """The leader's seat was released before the team opened: the team goes with it."""
    team.status = domain.move_team(team.status, domain.CANCELLED)
    team.closed_at = now
    db.emit(views.team_cancelled(team, [leader_seat]))


def fail_overdue(db):
    """Fails the open teams past their deadline that no other replica holds, each
    re-checked under its lock, and gives their shoppers' quantities back at once."""
    session, now = db.session, clock.now()
    teams = store.overdue_teams(session, now)
    seats = store.seats_of(session, [team.id for team in teams])
    quota_returns = defaultdict(int)
    for team in teams:
        if domain.is_overdue(team.status, aware(team.deadline), now):
            _fail(db, team, seats[team.id], quota_returns, now)
    store.return_quotas(session, quota_returns)


def _fail(db, team, seats, quota_returns, now):
    """拼团失败: unpaid seats are released, paid ones are refunded by orders; either way
    the shopper's quantity goes back to their limit."""
    team.status = domain.move_team(team.status, domain.FAILED)
    team.closed_at = now
    paid, unpaid = [], []
    for seat in seats:
        if seat.state not in domain.HOLDING_SEAT_STATES:
            continue
        (paid if seat.state == domain.PAID else unpaid).append(seat)
        state, gives_back = domain.on_team_failure(seat.state)
        if state != seat.state:
            seat.state = domain.move_seat(seat.state, state)
            seat.released_at = now
        if gives_back:
            quota_returns[(team.campaign_id, seat.user_id)] += seat.quantity
    team.seats_taken -= len(unpaid)
    db.emit(views.team_failed(team, paid, unpaid))
