"""What the orders service answers and announces: rows turned into plain dicts."""
from contract import events
from plumbing.clock import aware, isoformat
from plumbing.paging import page  # noqa: F401  (views.page: a listing's page)
from services.orders import domain


def order(row, team_orders=()):
    """The shopper's view. `team_orders` are the other orders of the same team, shown
    for 查看同团订单 by id and status only: never another shopper's data."""
    return {
        "id": row.id, "type": row.type, "status": row.status, "team_id": row.team_id,
        "is_leader": row.is_leader, "campaign_id": row.campaign_id,
        "product_id": row.product_id, "merchant_id": row.merchant_id,
        "sku_id": row.sku_id, "quantity": row.quantity,
        "unit_price": row.unit_price, "amount": row.amount, "title": row.title,
        "spec": row.spec, "address": row.address,
        "pay_deadline": isoformat(row.pay_deadline), "paid_at": isoformat(row.paid_at),
        "cancel_reason": row.cancel_reason, "refund_reason": row.refund_reason,
        "carrier": row.carrier, "tracking_no": row.tracking_no,
        "shipped_at": isoformat(row.shipped_at), "completed_at": isoformat(row.completed_at),
        "created_at": isoformat(row.created_at), "updated_at": isoformat(row.updated_at),
        "team_order_ids": [{"id": other.id, "status": other.status} for other in team_orders],
    }


def admin_order(row, team_orders=()):
    return {**order(row, team_orders), "user_id": row.user_id, "payment_id": row.payment_id,
            "transaction_id": row.transaction_id, "shipped_by": row.shipped_by}


def placement(row, team_orders, reported_team_status=None):
    """The answer to placing a team order: the team as the shopper sees it, and the order."""
    team_status = domain.team_status_at_placement(row.is_leader, reported_team_status)
    return {"team": {"id": row.team_id, "status": team_status},
            "order": order(row, team_orders)}


# --- events ---------------------------------------------------------------------------

def order_placed(row):
    return events.OrderPlaced(order_id=row.id, user_id=row.user_id, merchant_id=row.merchant_id,
                              team_id=row.team_id, reason=None, type=row.type, amount=row.amount,
                              pay_deadline=aware(row.pay_deadline))


def order_cancelled(row):
    return events.OrderCancelled(order_id=row.id, user_id=row.user_id, team_id=row.team_id,
                                 reason=row.cancel_reason)


def order_paid(row):
    return events.OrderPaid(order_id=row.id, user_id=row.user_id, team_id=row.team_id,
                            amount=row.amount, paid_at=aware(row.paid_at))


def order_to_ship(row):
    return events.OrderToShip(order_id=row.id, user_id=row.user_id, merchant_id=row.merchant_id,
                              team_id=row.team_id)


def refund_requested(order_id, amount, reason, refund_key):
    return events.RefundRequested(order_id=order_id, amount=amount, reason=reason,
                                  refund_key=refund_key)


def order_refunded(row, refunded_amount):
    return events.OrderRefunded(order_id=row.id, user_id=row.user_id, team_id=row.team_id,
                                amount=refunded_amount, reason=row.refund_reason)


def order_shipped(row):
    return events.OrderShipped(order_id=row.id, user_id=row.user_id, carrier=row.carrier,
                               tracking_no=row.tracking_no, shipped_at=aware(row.shipped_at))


def order_completed(row):
    """What was bought, as the order's snapshot has it: reviews makes it reviewable."""
    return events.OrderCompleted(
        order_id=row.id, user_id=row.user_id, merchant_id=row.merchant_id,
        product_id=row.product_id, sku_id=row.sku_id, spec=row.spec, title=row.title,
        quantity=row.quantity, completed_at=aware(row.completed_at))
