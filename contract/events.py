"""Every event a service sends, declared once: who sends it (source), its name, its version
and what it carries. A handler names the class (`@event_handler(events.TeamFailed)`), a
sender builds it (`self.db.emit(events.TeamFailed(team_id=..., ...))`). A change that a
listener cannot read is a new version, never an edit of the old one.
"""
from typing import Annotated, Literal, Optional

from pydantic import Field, StrictInt

from contract.declare import Count, Event, Fen, Id, Part, UtcTime, event
from plumbing.money import MAX_ORDER_FEN

TeamSize = Annotated[StrictInt, Field(ge=2, le=1000)]
MemberCount = Annotated[StrictInt, Field(ge=1, le=1000)]
# A share token goes into a URL path: URL-safe characters only.
ShareToken = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
PositiveFen = Annotated[StrictInt, Field(ge=1, description="money in fen (分), above 0")]

# --- accounts ------------------------------------------------------------------------------


@event("accounts", "user_registered")
class UserRegistered(Event):
    """A shopper's first WeChat login made their account."""
    user_id: Id
    invited_by: Optional[Id]


# --- catalog -------------------------------------------------------------------------------


class SpecGroup(Part):
    name: str
    values: list[str]


class SnapshotSku(Part):
    id: Id
    spec: str
    spec_values: list[str]
    code: Optional[str]
    image_url: Optional[str]
    price: Fen
    market_price: Optional[Fen]


@event("catalog", "product_changed")
class ProductChanged(Event):
    """The whole product at this version (created, edited, published, unpublished). Stock
    and sales are left out: they move with every order and no event follows them."""
    id: Id
    version: int
    merchant_id: Optional[Id]
    category_id: Optional[Id]
    title: str
    subtitle: Optional[str]
    description: Optional[str]
    image_urls: list[str]
    cover_image: Optional[str]
    video_url: Optional[str]
    spec_groups: list[SpecGroup]
    published_at: Optional[UtcTime]
    price: Optional[Fen]
    market_price: Optional[Fen]
    status: str
    pinned_rank: Optional[int]
    low_stock_threshold: Count
    created_at: UtcTime
    updated_at: UtcTime
    skus: list[SnapshotSku]


@event("catalog", "stock_low")
class StockLow(Event):
    """A reservation took a SKU's stock to the product's threshold or below."""
    merchant_id: Id
    product_id: Id
    sku_id: Id
    title: Annotated[str, Field(min_length=1, max_length=200)]
    spec: Annotated[str, Field(max_length=100)] = ""
    stock: Count
    threshold: Count


# --- reviews -------------------------------------------------------------------------------


@event("reviews", "review_replied")
class ReviewReplied(Event):
    """The merchant replied to a review for the first time."""
    review_id: Id
    user_id: Id
    product_id: Id


@event("reviews", "feedback_answered")
class FeedbackAnswered(Event):
    """The back office moved a shopper's feedback (投诉与建议) on."""
    feedback_id: Id
    user_id: Id
    status: Literal["open", "processing", "resolved"]


# --- teams ---------------------------------------------------------------------------------


class GroupPrice(Part):
    sku_id: Id
    group_price: PositiveFen


@event("teams", "campaign_changed")
class CampaignChanged(Event):
    """A campaign was created, edited or invalidated: catalog derives the group-buy flag
    and the 拼团专场 listing from it."""
    id: Id
    product_id: Id
    starts_at: UtcTime
    ends_at: UtcTime
    invalidated: bool
    skus: list[GroupPrice]


@event("teams", "team_opened")
class TeamOpened(Event):
    """The leader paid: the team is open until its deadline."""
    team_id: Id
    campaign_id: Id
    product_id: Id
    leader_id: Id
    opened_at: UtcTime
    deadline: UtcTime
    team_size: TeamSize
    share_token: ShareToken


@event("teams", "seat_paid")
class SeatPaid(Event):
    """A member's payment arrived in time: the seat is theirs."""
    team_id: Id
    order_id: Id
    user_id: Id
    member_count: MemberCount
    team_size: TeamSize
    leader_id: Id


@event("teams", "team_succeeded")
class TeamSucceeded(Event):
    """The last seat was paid: every paid order ships."""
    team_id: Id
    order_ids: list[Id]
    user_ids: list[Id]


@event("teams", "team_failed")
class TeamFailed(Event):
    """The deadline passed before the team filled: paid orders are refunded, unpaid ones
    cancelled; user_ids are the paid members, whose money comes back."""
    team_id: Id
    paid_order_ids: list[Id]
    unpaid_order_ids: list[Id]
    user_ids: list[Id]


@event("teams", "team_cancelled")
class TeamCancelled(Event):
    """The leader never paid: the team never opened and its orders are cancelled."""
    team_id: Id
    order_ids: list[Id]


@event("teams", "seat_refused")
class SeatRefused(Event):
    """A payment came for a seat that could no longer be kept (past the deadline, the team
    full or over): the order is refunded."""
    order_id: Id
    team_id: Id
    reason: str


# --- orders --------------------------------------------------------------------------------


@event("orders", "order_placed")
class OrderPlaced(Event):
    """An order holds its seat and stock and waits for its payment."""
    order_id: Id
    user_id: Id
    merchant_id: Optional[Id]
    team_id: Optional[Id]
    reason: Optional[str]
    type: str
    amount: Fen
    pay_deadline: Optional[UtcTime]


@event("orders", "order_cancelled")
class OrderCancelled(Event):
    """Cancelled before it was paid: its seat, stock and payment are given back."""
    order_id: Id
    user_id: Id
    team_id: Optional[Id]
    reason: Optional[str]


@event("orders", "order_paid")
class OrderPaid(Event):
    """Its payment arrived and was kept: teams decides the seat."""
    order_id: Id
    user_id: Id
    team_id: Optional[Id]
    amount: Fen
    paid_at: UtcTime


@event("orders", "order_to_ship")
class OrderToShip(Event):
    """Paid and final (its team succeeded): the stock is spent, the merchant ships."""
    order_id: Id
    user_id: Id
    merchant_id: Optional[Id]
    team_id: Optional[Id]


@event("orders", "refund_requested")
class RefundRequested(Event):
    """Orders wants money back for an order (its team failed, its seat was refused, a late
    or stray payment): payments refunds it once per refund_key."""
    order_id: Id
    amount: Annotated[StrictInt, Field(ge=1, le=MAX_ORDER_FEN, description="money in fen (分)")]
    reason: Annotated[str, Field(min_length=1, max_length=80)]  # WeChat's limit
    refund_key: Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,64}$")]


@event("orders", "order_refunded")
class OrderRefunded(Event):
    """The money of an order is back with the shopper."""
    order_id: Id
    user_id: Id
    team_id: Optional[Id]
    amount: Fen
    reason: Optional[str]


@event("orders", "order_shipped")
class OrderShipped(Event):
    """The merchant shipped it (carrier and tracking number)."""
    order_id: Id
    user_id: Id
    carrier: Annotated[str, Field(min_length=1, max_length=32)]
    tracking_no: Annotated[str, Field(min_length=1, max_length=40)]
    shipped_at: UtcTime


@event("orders", "order_completed")
class OrderCompleted(Event):
    """The shopper confirmed receipt, or it was confirmed by itself: what was bought, as the
    order's snapshot has it, may now be reviewed."""
    order_id: Id
    user_id: Id
    merchant_id: Optional[Id]
    product_id: Id
    sku_id: Id
    spec: Annotated[str, Field(max_length=100)]
    title: Annotated[str, Field(max_length=200)]
    quantity: Annotated[StrictInt, Field(ge=1)]
    completed_at: UtcTime


# --- payments ------------------------------------------------------------------------------


@event("payments", "payment_succeeded")
class PaymentSucceeded(Event):
    """WeChat Pay's signed notice: the shopper paid."""
    payment_id: Id
    order_id: Id
    amount: Fen
    paid_at: UtcTime
    transaction_id: Optional[str]


@event("payments", "refund_succeeded")
class RefundSucceeded(Event):
    """WeChat Pay's signed notice: a refund reached the shopper."""
    refund_id: Id
    order_id: Id
    amount: PositiveFen
    user_id: Id
