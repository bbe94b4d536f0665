"""Group-buy rules of the teams service (seeds 003/004, docs/group-buy.md): pure
functions, no I/O. Every function that depends on time takes `now`.

Campaign (拼团活动): its status comes from the clock — not_started (now < starts_at),
active (starts_at <= now < ends_at), ended (now >= ends_at) — unless the merchant
invalidated it (ended it early). not_started: every field may be edited; active: only
ends_at, only later; ended and invalidated are final.

Team (团单): pending (leader ordered, not paid) -> open (leader paid: opened_at, deadline)
-> succeeded (team_size paid seats) | failed (deadline passed first); pending ->
cancelled (the leader's order was cancelled before paying).

Seat (one per order): reserved -> paid | released (order cancelled, or the team failed
before it was paid) | refused (a payment arrived for a seat that cannot be kept);
released -> refused (the payment arrived after the release). A seat counts against
team_size while reserved or paid.

Choices the seeds leave open, made here:
- A campaign that ended opens no new team, but its open teams can still be joined until
  their own deadline (seed 004). The same holds for an invalidated campaign: the merchant
  ended the campaign early, not the teams under way, whose members have already paid.
- A pending team whose leader pays after the campaign ended still opens: the leader
  ordered while the campaign was active.
- The per-user limit (每人限购) counts the quantity of the seats that may still end up
  bought: reserved and paid seats of teams that have not failed or been cancelled. A
  released seat, a refused payment and a failed team (its paid members are refunded)
  give the quantity back.
- A payment is judged when it is processed: a seat whose team is past its deadline then
  is refused (and refunded) even if the deadline job has not failed the team yet.
"""
from collections import namedtuple
from datetime import timedelta

from plumbing.errors import Conflict, NotFound
from plumbing.validation import invalid

# --- product copy --------------------------------------------------------------

def should_apply(current_version, incoming_version):
    """A product snapshot replaces ours only if it is newer; redelivered or late
    snapshots of an older version change nothing."""
    return current_version is None or incoming_version > current_version


# --- campaigns ---------------------------------------------------------------

NOT_STARTED, ACTIVE, ENDED, INVALIDATED = "not_started", "active", "ended", "invalidated"
CAMPAIGN_STATUSES = (NOT_STARTED, ACTIVE, ENDED, INVALIDATED)
FINAL_CAMPAIGN_STATUSES = (ENDED, INVALIDATED)
CAMPAIGN_FIELDS = ("product_id", "starts_at", "ends_at", "team_size", "validity_seconds",
                   "per_user_limit", "skus")
EDITABLE_WHILE_ACTIVE = ("ends_at",)
PUBLISHED = "published"  # catalog's status of a product on sale
MAX_CAMPAIGN_SKUS = 50
MAX_PAGE_SIZE = 50


def campaign_status(starts_at, ends_at, invalidated, now):
    if invalidated:
        return INVALIDATED
    if now < starts_at:
        return NOT_STARTED
    if now < ends_at:
        return ACTIVE
    return ENDED


def is_live(status):
    """A campaign that has not ended or been invalidated: at most one per product."""
    return status not in FINAL_CAMPAIGN_STATUSES


def check_campaign_product(merchant_id, product_merchant_id, product_status):
    """Only the product's merchant runs campaigns on it; another merchant's product is as
    missing as one that does not exist. Only a product on sale can have a campaign."""
    if product_merchant_id != merchant_id:
        raise NotFound("product_not_found", "There is no such product.")
    if product_status != PUBLISHED:
        raise Conflict("product_not_published",
                       "A campaign needs a published product; publish it first.")


def check_campaign(fields, product_skus, now):
    """The rules between fields and against the product copy: a time window that is
    still to come or running, and group prices below the price of each listed SKU of
    this product. `product_skus`: [{id, spec, price}]."""
    errors = {}
    if fields["starts_at"] >= fields["ends_at"]:
        errors["ends_at"] = ["Must be after starts_at."]
    elif fields["ends_at"] <= now:
        errors["ends_at"] = ["Must be in the future."]
    prices = {sku["id"]: sku["price"] for sku in product_skus}
    seen = set()
    for index, sku in enumerate(fields["skus"]):
        sku_id = sku["sku_id"]
        if sku_id in seen:
            errors[f"skus.{index}.sku_id"] = [f"SKU {sku_id} is listed twice."]
        elif sku_id not in prices:
            errors[f"skus.{index}.sku_id"] = [f"This product has no SKU {sku_id}."]
        elif sku["group_price"] >= prices[sku_id]:
            errors[f"skus.{index}.group_price"] = [
                f"Must be below the SKU's price of {prices[sku_id]} fen."]
        seen.add(sku_id)
    if errors:
        raise invalid(errors)


def check_no_overlap(other_live_campaign_ids):
    if other_live_campaign_ids:
        raise Conflict("campaign_overlaps",
                       "This product already has a campaign that has not ended; end or "
                       "invalidate it first.",
                       details={"campaign_ids": sorted(other_live_campaign_ids)})


def _same(field, left, right):
    if field == "skus":  # the order of a SKU list means nothing
        return _sku_key(left) == _sku_key(right)
    return left == right


def _sku_key(skus):
    return sorted((sku["sku_id"], sku["group_price"]) for sku in skus)


def plan_edit(status, current, change):
    """-> (fields after the edit, names of the fields that really change).

    `current` holds every campaign field, `change` the ones sent; a field sent with its
    current value is no change, so a client may send the whole campaign back."""
    if status in FINAL_CAMPAIGN_STATUSES:
        raise Conflict("campaign_final",
                       f"An {status.replace('_', ' ')} campaign cannot be changed; create a "
                       "new one.")
    changed = [name for name, value in change.items() if not _same(name, current[name], value)]
    if status == ACTIVE:
        locked = [name for name in changed if name not in EDITABLE_WHILE_ACTIVE]
        if locked:
            raise Conflict("campaign_active_locked",
                           "A running campaign can only have its end time extended.",
                           details={name: ["Cannot change while the campaign runs."]
                                    for name in locked})
        if "ends_at" in changed and change["ends_at"] < current["ends_at"]:
            raise Conflict("campaign_active_locked",
                           "A running campaign's end time can only be moved later.",
                           details={"ends_at": ["Must be later than the current end time."]})
    return {**current, **{name: change[name] for name in changed}}, changed


def needs_invalidation(status):
    """True when invalidating changes something; invalidating twice is a no-op."""
    if status == INVALIDATED:
        return False
    if status == ENDED:
        raise Conflict("campaign_final", "An ended campaign cannot be invalidated.")
    return True


def check_can_open(status):
    if status != ACTIVE:
        raise Conflict("campaign_not_active",
                       "New teams can only be opened while the campaign is running.",
                       details={"status": [status]})


def group_price(campaign_skus, sku_id):
    for sku in campaign_skus:
        if sku["sku_id"] == sku_id:
            return sku["group_price"]
    raise NotFound("sku_not_in_campaign", f"SKU {sku_id} is not part of this campaign.")


def product_sku(product_skus, sku_id):
    """The SKU as the product copy knows it now (spec, price)."""
    for sku in product_skus:
        if sku["id"] == sku_id:
            return sku
    raise NotFound("sku_not_in_campaign", f"SKU {sku_id} is no longer sold.")


def limit_reached(per_user_limit):
    return Conflict("limit_reached",
                    f"Each shopper may buy at most {per_user_limit} in this campaign.",
                    details={"per_user_limit": [str(per_user_limit)]})


# --- teams -------------------------------------------------------------------

PENDING, OPEN, SUCCEEDED, FAILED, CANCELLED = (
    "pending", "open", "succeeded", "failed", "cancelled")
TEAM_STATUSES = (PENDING, OPEN, SUCCEEDED, FAILED, CANCELLED)
CLOSED_TEAM_STATUSES = (SUCCEEDED, FAILED, CANCELLED)
TEAM_MOVES = {(PENDING, OPEN), (PENDING, CANCELLED), (OPEN, SUCCEEDED), (OPEN, FAILED)}


def move_team(current, target):
    """The team's next status; any move the state machine lacks is a bug, refused."""
    if (current, target) not in TEAM_MOVES:
        raise Conflict("team_transition_forbidden",
                       f"A team cannot go from {current} to {target}.")
    return target


def deadline_of(opened_at, validity_seconds):
    """实际拼团结束时间 = 发起拼团时间 (the leader's payment) + 成团有效时间."""
    return opened_at + timedelta(seconds=validity_seconds)


def hold_until(now, payment_window_seconds, deadline=None):
    """How long a seat waits for its payment: the payment window, cut at the team's
    deadline (a pending team has none yet)."""
    until = now + timedelta(seconds=payment_window_seconds)
    return until if deadline is None else min(until, deadline)


def already_in_team():
    return Conflict("already_in_team", "You already have a place in this team.")


def check_joinable(status, seats_taken, team_size, deadline, now):
    """Why a shopper cannot take a seat in this team now, if they cannot."""
    if status == PENDING:
        raise Conflict("team_not_open", "This team opens once its leader has paid.")
    if status in CLOSED_TEAM_STATUSES:
        raise Conflict("team_closed", f"This team has {status}.", details={"status": [status]})
    if deadline <= now:
        raise Conflict("past_deadline", "This team's time to fill up has run out.")
    if seats_taken >= team_size:
        raise team_full()


def team_full():
    return Conflict("team_full", "This team has no seat left.")


def is_overdue(status, deadline, now):
    """An open team whose deadline passed before it filled up: it fails."""
    return status == OPEN and deadline is not None and deadline <= now


def is_complete(paid_count, team_size):
    return paid_count >= team_size


def seats_left(status, seats_taken, team_size, deadline, now):
    """Seats a shopper could take right now."""
    if status != OPEN or deadline <= now:
        return 0
    return max(team_size - seats_taken, 0)


JOIN, FULL, ENDED_VIEW, PENDING_VIEW = "join", "full", "ended", "pending"


def share_view(status, seats_taken, team_size, deadline, now):
    """What a shared link shows (seed 004, 拼团页分享): "join" while seats are left
    before the deadline, "full" once succeeded (or while every seat is held), "ended"
    when failed, cancelled or past its deadline, "pending" before the leader paid."""
    if status == SUCCEEDED:
        return FULL
    if status in (FAILED, CANCELLED):
        return ENDED_VIEW
    if status == PENDING:
        return PENDING_VIEW
    if deadline <= now:
        return ENDED_VIEW
    return FULL if seats_taken >= team_size else JOIN


# --- seats -------------------------------------------------------------------

RESERVED, PAID, RELEASED, REFUSED = "reserved", "paid", "released", "refused"
SEAT_STATES = (RESERVED, PAID, RELEASED, REFUSED)
HOLDING_SEAT_STATES = (RESERVED, PAID)
SEAT_MOVES = {(RESERVED, PAID), (RESERVED, RELEASED), (RESERVED, REFUSED), (RELEASED, REFUSED)}


def move_seat(current, target):
    if (current, target) not in SEAT_MOVES:
        raise Conflict("seat_transition_forbidden",
                       f"A seat cannot go from {current} to {target}.")
    return target


def check_same_seat(held, asked):
    """A repeated open/join (same order id) must ask for the seat the order holds."""
    differing = sorted(name for name, value in asked.items() if held.get(name) != value)
    if differing:
        raise Conflict("order_seat_mismatch", "This order already holds a different seat.",
                       details={name: ["Differs from the seat this order holds."]
                                for name in differing})


def in_team(seat_state, is_leader, team_status):
    """Whose orders a team lists: seats holding a place, and for a cancelled team the
    leader's (its only order, released when cancelled)."""
    return seat_state in HOLDING_SEAT_STATES or (is_leader and team_status == CANCELLED)


# What to do with a payment: open the team (leader) and mark the seat paid, mark it paid,
# refuse it (the money goes back), or nothing (the seat already had its payment judged).
OPEN_AND_PAY, PAY, REFUSE, IGNORE = "open_and_pay", "pay", "refuse", "ignore"
Outcome = namedtuple("Outcome", "action reason")
_CLOSED_REASONS = {FAILED: "team_failed", CANCELLED: "team_cancelled", SUCCEEDED: "team_full"}


def payment_outcome(seat_state, is_leader, team_status, deadline, now):
    if seat_state in (PAID, REFUSED):
        return Outcome(IGNORE, None)
    if team_status in _CLOSED_REASONS:
        return Outcome(REFUSE, _CLOSED_REASONS[team_status])
    if seat_state == RELEASED:
        return Outcome(REFUSE, "seat_released")
    if team_status == PENDING:
        return Outcome(OPEN_AND_PAY, None) if is_leader else Outcome(REFUSE, "team_not_open")
    if deadline <= now:
        return Outcome(REFUSE, "past_deadline")
    return Outcome(PAY, None)


# What an order's cancellation does to its seat.
RELEASE, RELEASE_AND_CANCEL_TEAM = "release", "release_and_cancel_team"


def release_outcome(seat_state, is_leader, team_status):
    """Only a reserved seat is released (a paid one waits for the team's outcome); the
    leader's seat of a pending team takes the team with it."""
    if seat_state != RESERVED:
        return IGNORE
    if is_leader and team_status == PENDING:
        return RELEASE_AND_CANCEL_TEAM
    return RELEASE


def on_team_failure(seat_state):
    """-> (the seat's state after its team failed, whether its quantity goes back to the
    shopper's limit). Unpaid seats are released; paid ones stay paid and are refunded."""
    if seat_state == RESERVED:
        return RELEASED, True
    if seat_state == PAID:
        return PAID, True
    return seat_state, False
