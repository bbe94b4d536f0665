"""Group-buy rules, without a broker or a database: every allowed and every forbidden
move of campaigns, teams and seats, against a clock the tests set."""
from datetime import datetime, timedelta, timezone
from itertools import product

import pytest
import time_machine

from plumbing import clock
from plumbing.errors import BadRequest, Conflict, NotFound
from services.teams import domain
from services.teams.domain import (
    ACTIVE,
    CANCELLED,
    ENDED,
    FAILED,
    INVALIDATED,
    NOT_STARTED,
    OPEN,
    PAID,
    PENDING,
    REFUSED,
    RELEASED,
    RESERVED,
    SUCCEEDED,
)

T0 = datetime(2026, 7, 11, 0, 0, tzinfo=timezone.utc)  # 7月11日00:00:00
STARTS, ENDS = T0, T0 + timedelta(days=9)                # ~7月20日00:00:00
SECOND = timedelta(seconds=1)


def raises(error_type, code, action, *args):
    with pytest.raises(error_type) as raised:
        action(*args)
    assert raised.value.code == code
    return raised.value


# --- product copy --------------------------------------------------------------

def test_first_snapshot_is_applied():
    assert domain.should_apply(None, 1)


def test_only_newer_snapshots_replace_the_copy():
    assert domain.should_apply(3, 4)
    assert not domain.should_apply(4, 4)  # redelivered
    assert not domain.should_apply(4, 3)  # arrived late


# --- campaign status from the clock ------------------------------------------------

@pytest.mark.parametrize("moment, status", [
    (STARTS - timedelta(days=1), NOT_STARTED),
    (STARTS - SECOND, NOT_STARTED),
    (STARTS, ACTIVE),                     # 开始时间 <= 当前时间
    (STARTS + SECOND, ACTIVE),
    (ENDS - SECOND, ACTIVE),
    (ENDS, ENDED),                        # 结束时间 <= 当前时间
    (ENDS + timedelta(days=30), ENDED),
])
def test_campaign_status_follows_the_clock(moment, status):
    with time_machine.travel(moment, tick=False):
        assert domain.campaign_status(STARTS, ENDS, False, clock.now()) == status


@pytest.mark.parametrize("moment", [STARTS - SECOND, STARTS, ENDS - SECOND, ENDS, ENDS + SECOND])
def test_an_invalidated_campaign_stays_invalidated_whatever_the_time(moment):
    assert domain.campaign_status(STARTS, ENDS, True, moment) == INVALIDATED


def test_the_clock_moves_a_campaign_through_its_life():
    with time_machine.travel(STARTS - SECOND, tick=False) as traveller:
        seen = [domain.campaign_status(STARTS, ENDS, False, clock.now())]
        traveller.shift(SECOND)
        seen.append(domain.campaign_status(STARTS, ENDS, False, clock.now()))
        traveller.move_to(ENDS)
        seen.append(domain.campaign_status(STARTS, ENDS, False, clock.now()))
    assert seen == [NOT_STARTED, ACTIVE, ENDED]


@pytest.mark.parametrize("status, live", [(NOT_STARTED, True), (ACTIVE, True), (ENDED, False),
                                          (INVALIDATED, False)])
def test_only_not_started_and_active_campaigns_are_live(status, live):
    assert domain.is_live(status) is live


# --- campaign creation -------------------------------------------------------------

PRODUCT_SKUS = [{"id": 70, "spec": "5斤", "price": 2990}, {"id": 71, "spec": "10斤", "price": 5990}]


def fields(**overrides):
    return {"product_id": 7, "starts_at": STARTS, "ends_at": ENDS, "team_size": 3,
            "validity_seconds": 86400, "per_user_limit": 2,
            "skus": [{"sku_id": 70, "group_price": 1990}], **overrides}


def test_a_campaign_on_the_merchants_published_product_passes():
    domain.check_campaign_product(1, 1, "published")
    domain.check_campaign(fields(skus=[{"sku_id": 70, "group_price": 2989},
                                       {"sku_id": 71, "group_price": 4990}]), PRODUCT_SKUS, T0)


@pytest.mark.parametrize("owner", [2, None])
def test_another_merchants_product_is_not_found(owner):
    raises(NotFound, "product_not_found", domain.check_campaign_product, 1, owner, "published")


@pytest.mark.parametrize("status", ["draft", "unpublished"])
def test_only_a_published_product_gets_a_campaign(status):
    raises(Conflict, "product_not_published", domain.check_campaign_product, 1, 1, status)


@pytest.mark.parametrize("overrides, field", [
    ({"ends_at": STARTS}, "ends_at"),                              # starts_at == ends_at
    ({"ends_at": STARTS - SECOND}, "ends_at"),                     # ends before it starts
    ({"starts_at": T0 - timedelta(days=2), "ends_at": T0}, "ends_at"),  # already over
    ({"skus": [{"sku_id": 99, "group_price": 100}]}, "skus.0.sku_id"),  # not this product's
    ({"skus": [{"sku_id": 70, "group_price": 2990}]}, "skus.0.group_price"),  # == price
    ({"skus": [{"sku_id": 70, "group_price": 3500}]}, "skus.0.group_price"),  # above price
    ({"skus": [{"sku_id": 70, "group_price": 100},
               {"sku_id": 70, "group_price": 200}]}, "skus.1.sku_id"),  # twice
])
def test_campaign_fields_are_refused_with_the_field_named(overrides, field):
    error = raises(BadRequest, "validation_failed", domain.check_campaign, fields(**overrides),
                   PRODUCT_SKUS, T0)
    assert list(error.details) == [field]


def test_a_campaign_may_start_in_the_past_if_it_has_not_ended():
    domain.check_campaign(fields(starts_at=T0 - timedelta(days=1), ends_at=T0 + SECOND),
                          PRODUCT_SKUS, T0)


def test_a_second_live_campaign_on_a_product_overlaps():
    domain.check_no_overlap([])
    error = raises(Conflict, "campaign_overlaps", domain.check_no_overlap, [5, 3])
    assert error.details == {"campaign_ids": [3, 5]}


# --- campaign edits: every status x every field --------------------------------------

CHANGES = {
    "product_id": 8,
    "starts_at": STARTS + timedelta(hours=1),
    "ends_at": ENDS + timedelta(days=1),
    "team_size": 5,
    "validity_seconds": 3600,
    "per_user_limit": 9,
    "skus": [{"sku_id": 71, "group_price": 3990}],
}


@pytest.mark.parametrize("field", domain.CAMPAIGN_FIELDS)
def test_a_not_started_campaign_may_change_every_field(field):
    merged, changed = domain.plan_edit(NOT_STARTED, fields(), {field: CHANGES[field]})
    assert changed == [field]
    assert merged == {**fields(), field: CHANGES[field]}


def test_a_not_started_campaign_may_change_everything_at_once():
    merged, changed = domain.plan_edit(NOT_STARTED, fields(), CHANGES)
    assert merged == CHANGES and sorted(changed) == sorted(CHANGES)


def test_a_not_started_campaign_may_also_end_earlier():
    merged, _ = domain.plan_edit(NOT_STARTED, fields(), {"ends_at": ENDS - timedelta(days=1)})
    assert merged["ends_at"] == ENDS - timedelta(days=1)


def test_an_active_campaign_may_only_extend_its_end():
    merged, changed = domain.plan_edit(ACTIVE, fields(), {"ends_at": ENDS + SECOND})
    assert changed == ["ends_at"] and merged["ends_at"] == ENDS + SECOND


@pytest.mark.parametrize("field", [f for f in domain.CAMPAIGN_FIELDS if f != "ends_at"])
def test_an_active_campaign_refuses_every_other_field(field):
    error = raises(Conflict, "campaign_active_locked", domain.plan_edit, ACTIVE, fields(),
                   {field: CHANGES[field]})
    assert list(error.details) == [field]


@pytest.mark.parametrize("ends_at", [ENDS - SECOND, STARTS + SECOND])
def test_an_active_campaign_cannot_end_earlier(ends_at):
    raises(Conflict, "campaign_active_locked", domain.plan_edit, ACTIVE, fields(),
           {"ends_at": ends_at})


def test_fields_sent_with_their_current_value_are_no_change():
    same = {**fields(), "skus": list(reversed(fields()["skus"]))}
    assert domain.plan_edit(ACTIVE, fields(), same) == (fields(), [])
    merged, changed = domain.plan_edit(ACTIVE, fields(), {**same, "ends_at": ENDS + SECOND})
    assert changed == ["ends_at"]


def test_sku_lists_compare_without_order():
    two = [{"sku_id": 70, "group_price": 1990}, {"sku_id": 71, "group_price": 3990}]
    _, changed = domain.plan_edit(ACTIVE, fields(skus=two), {"skus": two[::-1]})
    assert changed == []


@pytest.mark.parametrize("status, field", product((ENDED, INVALIDATED), domain.CAMPAIGN_FIELDS))
def test_ended_and_invalidated_campaigns_are_final(status, field):
    raises(Conflict, "campaign_final", domain.plan_edit, status, fields(), {field: CHANGES[field]})


@pytest.mark.parametrize("status", [ENDED, INVALIDATED])
def test_a_final_campaign_refuses_even_an_edit_that_changes_nothing(status):
    raises(Conflict, "campaign_final", domain.plan_edit, status, fields(), {"team_size": 3})


@pytest.mark.parametrize("status, changes", [(NOT_STARTED, True), (ACTIVE, True),
                                             (INVALIDATED, False)])
def test_invalidation_from_not_started_or_active_and_twice_is_a_no_op(status, changes):
    assert domain.needs_invalidation(status) is changes


def test_an_ended_campaign_cannot_be_invalidated():
    raises(Conflict, "campaign_final", domain.needs_invalidation, ENDED)


# --- opening teams -------------------------------------------------------------------

def test_teams_open_only_while_the_campaign_is_active():
    domain.check_can_open(ACTIVE)
    for status in (NOT_STARTED, ENDED, INVALIDATED):
        raises(Conflict, "campaign_not_active", domain.check_can_open, status)


def test_the_group_price_is_the_campaign_skus():
    assert domain.group_price([{"sku_id": 70, "group_price": 1990}], 70) == 1990
    raises(NotFound, "sku_not_in_campaign", domain.group_price,
           [{"sku_id": 70, "group_price": 1990}], 71)


def test_title_and_spec_come_from_the_product_copy():
    assert domain.product_sku(PRODUCT_SKUS, 71)["spec"] == "10斤"
    raises(NotFound, "sku_not_in_campaign", domain.product_sku, PRODUCT_SKUS, 72)


def test_a_repeated_order_must_ask_for_the_same_seat():
    held = {"order_id": 1, "user_id": 2, "sku_id": 70, "quantity": 1, "campaign_id": 3,
            "team_id": 4}
    domain.check_same_seat(held, {"order_id": 1, "user_id": 2, "sku_id": 70, "quantity": 1,
                                  "campaign_id": 3})
    error = raises(Conflict, "order_seat_mismatch", domain.check_same_seat, held,
                   {"order_id": 1, "user_id": 2, "sku_id": 71, "quantity": 2, "team_id": 4})
    assert sorted(error.details) == ["quantity", "sku_id"]


def test_the_limit_error_names_the_limit():
    assert domain.limit_reached(2).code == "limit_reached"


# --- team transitions: the whole grid -------------------------------------------------

ALLOWED_TEAM_MOVES = {(PENDING, OPEN), (PENDING, CANCELLED), (OPEN, SUCCEEDED), (OPEN, FAILED)}


@pytest.mark.parametrize("current, target", product(domain.TEAM_STATUSES, repeat=2))
def test_team_moves(current, target):
    if (current, target) in ALLOWED_TEAM_MOVES:
        assert domain.move_team(current, target) == target
    else:
        raises(Conflict, "team_transition_forbidden", domain.move_team, current, target)


ALLOWED_SEAT_MOVES = {(RESERVED, PAID), (RESERVED, RELEASED), (RESERVED, REFUSED),
                      (RELEASED, REFUSED)}


@pytest.mark.parametrize("current, target", product(domain.SEAT_STATES, repeat=2))
def test_seat_moves(current, target):
    if (current, target) in ALLOWED_SEAT_MOVES:
        assert domain.move_seat(current, target) == target
    else:
        raises(Conflict, "seat_transition_forbidden", domain.move_seat, current, target)


# --- deadlines and holds -----------------------------------------------------------------

def test_the_deadline_is_the_leaders_payment_plus_the_validity():
    # 实际拼团结束时间 = 发起拼团时间 + 成团有效时间
    assert domain.deadline_of(T0, 86400) == T0 + timedelta(days=1)
    assert domain.deadline_of(T0, 2) == T0 + 2 * SECOND


def test_a_seat_is_held_for_the_payment_window_cut_at_the_deadline():
    assert domain.hold_until(T0, 900) == T0 + timedelta(minutes=15)  # pending: no deadline
    assert domain.hold_until(T0, 900, T0 + timedelta(hours=1)) == T0 + timedelta(minutes=15)
    assert domain.hold_until(T0, 900, T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=5)


@pytest.mark.parametrize("status, offset, overdue", [
    (OPEN, -SECOND, False), (OPEN, 0 * SECOND, True), (OPEN, SECOND, True),
    *[(status, SECOND, False) for status in (PENDING, SUCCEEDED, FAILED, CANCELLED)],
])
def test_only_an_open_team_past_its_deadline_is_overdue(status, offset, overdue):
    deadline = T0 + timedelta(days=1)
    assert domain.is_overdue(status, deadline, deadline + offset) is overdue


def test_a_pending_team_without_a_deadline_is_never_overdue():
    assert not domain.is_overdue(PENDING, None, T0)
    assert not domain.is_overdue(OPEN, None, T0)


def test_a_team_is_complete_with_team_size_paid_seats():
    assert not domain.is_complete(2, 3)
    assert domain.is_complete(3, 3)


# --- joining -------------------------------------------------------------------------------

DEADLINE = T0 + timedelta(hours=24)


@pytest.mark.parametrize("status, seats_taken, now, code", [
    (PENDING, 1, T0, "team_not_open"),
    (SUCCEEDED, 3, T0, "team_closed"),
    (FAILED, 1, DEADLINE, "team_closed"),
    (CANCELLED, 0, T0, "team_closed"),
    (OPEN, 1, DEADLINE, "past_deadline"),
    (OPEN, 1, DEADLINE + SECOND, "past_deadline"),
    (OPEN, 3, T0, "team_full"),
])
def test_who_cannot_join(status, seats_taken, now, code):
    deadline = None if status in (PENDING, CANCELLED) else DEADLINE
    raises(Conflict, code, domain.check_joinable, status, seats_taken, 3, deadline, now)


@pytest.mark.parametrize("seats_taken", [1, 2])
def test_an_open_team_with_a_seat_left_before_its_deadline_can_be_joined(seats_taken):
    domain.check_joinable(OPEN, seats_taken, 3, DEADLINE, DEADLINE - SECOND)


@pytest.mark.parametrize("status, seats_taken, now, left", [
    (OPEN, 1, T0, 2), (OPEN, 3, T0, 0), (OPEN, 1, DEADLINE, 0),
    (PENDING, 1, T0, 0), (SUCCEEDED, 3, T0, 0), (FAILED, 1, T0, 0), (CANCELLED, 0, T0, 0),
])
def test_seats_left(status, seats_taken, now, left):
    assert domain.seats_left(status, seats_taken, 3, DEADLINE, now) == left


@pytest.mark.parametrize("status, seats_taken, now, view", [
    (OPEN, 1, T0, "join"),
    (OPEN, 2, DEADLINE - SECOND, "join"),
    (OPEN, 3, T0, "full"),             # every seat held, waiting for payments
    (OPEN, 1, DEADLINE, "ended"),      # past its own deadline, not yet failed by the job
    (SUCCEEDED, 3, T0, "full"),
    (FAILED, 1, DEADLINE, "ended"),
    (CANCELLED, 0, T0, "ended"),
    (PENDING, 1, T0, "pending"),
])
def test_what_a_shared_link_shows(status, seats_taken, now, view):
    assert domain.share_view(status, seats_taken, 3, DEADLINE, now) == view


# --- payments: every seat state x leader x team status x side of the deadline ---------------

def expected_payment(seat_state, is_leader, team_status, past_deadline):
    if seat_state in (PAID, REFUSED):
        return (domain.IGNORE, None)
    closed = {FAILED: "team_failed", CANCELLED: "team_cancelled", SUCCEEDED: "team_full"}
    if team_status in closed:
        return (domain.REFUSE, closed[team_status])
    if seat_state == RELEASED:
        return (domain.REFUSE, "seat_released")
    if team_status == PENDING:
        return (domain.OPEN_AND_PAY, None) if is_leader else (domain.REFUSE, "team_not_open")
    if past_deadline:
        return (domain.REFUSE, "past_deadline")
    return (domain.PAY, None)


@pytest.mark.parametrize("seat_state, is_leader, team_status, past_deadline",
                         product(domain.SEAT_STATES, (True, False), domain.TEAM_STATUSES,
                                 (False, True)))
def test_payment_outcomes(seat_state, is_leader, team_status, past_deadline):
    now = DEADLINE + SECOND if past_deadline else DEADLINE - SECOND
    outcome = domain.payment_outcome(seat_state, is_leader, team_status, DEADLINE, now)
    assert tuple(outcome) == expected_payment(seat_state, is_leader, team_status, past_deadline)


def test_a_payment_exactly_at_the_deadline_is_too_late():
    assert domain.payment_outcome(RESERVED, False, OPEN, DEADLINE, DEADLINE) == \
        (domain.REFUSE, "past_deadline")


def test_the_leaders_payment_opens_a_pending_team_which_has_no_deadline_yet():
    assert domain.payment_outcome(RESERVED, True, PENDING, None, T0) == \
        (domain.OPEN_AND_PAY, None)


# --- cancellations and failures -----------------------------------------------------------

@pytest.mark.parametrize("seat_state, is_leader, team_status", product(
    domain.SEAT_STATES, (True, False), domain.TEAM_STATUSES))
def test_release_outcomes(seat_state, is_leader, team_status):
    outcome = domain.release_outcome(seat_state, is_leader, team_status)
    if seat_state != RESERVED:
        assert outcome == domain.IGNORE  # a paid seat waits for the team's outcome
    elif is_leader and team_status == PENDING:
        assert outcome == domain.RELEASE_AND_CANCEL_TEAM
    else:
        assert outcome == domain.RELEASE


@pytest.mark.parametrize("seat_state, after", [
    (RESERVED, (RELEASED, True)), (PAID, (PAID, True)),
    (RELEASED, (RELEASED, False)), (REFUSED, (REFUSED, False)),
])
def test_what_a_teams_failure_does_to_each_seat(seat_state, after):
    assert domain.on_team_failure(seat_state) == after


@pytest.mark.parametrize("seat_state, is_leader, team_status, listed", [
    (RESERVED, False, OPEN, True), (PAID, True, SUCCEEDED, True), (PAID, False, FAILED, True),
    (RELEASED, False, OPEN, False), (REFUSED, False, FAILED, False),
    (RELEASED, False, FAILED, False), (RELEASED, True, CANCELLED, True),
])
def test_whose_orders_a_team_lists(seat_state, is_leader, team_status, listed):
    assert domain.in_team(seat_state, is_leader, team_status) is listed
