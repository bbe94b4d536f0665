"""What the payments service answers and announces: rows turned into plain dicts."""
from contract import events
from plumbing.clock import aware, isoformat
from plumbing.paging import page  # noqa: F401  (views.page: a listing's page)
from services.payments.domain import REQUESTED

ACKNOWLEDGED = {"status": 200, "body": {"code": "SUCCESS", "message": "成功"}}


def refused(status, message):
    """A callback answer WeChat Pay reads as "not taken": it will send the notification again."""
    return {"status": status, "body": {"code": "FAIL", "message": message}}


def payment_started(payment, pay_params):
    return {"payment_id": payment.id, "prepay_id": payment.prepay_id, "status": payment.status,
            "pay_params": pay_params}


def refund(row):
    return {"id": row.id, "payment_id": row.payment_id, "order_id": row.order_id,
            "amount": row.amount, "reason": row.reason, "refund_key": row.refund_key,
            "status": row.status, "attempts": row.attempts,
            "created_at": isoformat(row.created_at), "succeeded_at": isoformat(row.succeeded_at)}


def payment(row, refunds, balance):
    return {"id": row.id, "order_id": row.order_id, "user_id": row.user_id, "amount": row.amount,
            "description": row.description, "status": row.status, "prepay_id": row.prepay_id,
            "out_trade_no": row.out_trade_no, "transaction_id": row.transaction_id,
            "paid_at": isoformat(row.paid_at), "closed_at": isoformat(row.closed_at),
            "created_at": isoformat(row.created_at), "refunds": [refund(r) for r in refunds],
            "balance": balance}


def payment_succeeded(row, amount):
    return events.PaymentSucceeded(payment_id=row.id, order_id=row.order_id, amount=amount,
                                   paid_at=aware(row.paid_at), transaction_id=row.transaction_id)


def refund_succeeded(row, amount, user_id):
    return events.RefundSucceeded(refund_id=row.id, order_id=row.order_id, amount=amount,
                                  user_id=user_id)


def ops_refund(row, stuck):
    """A refund as ops sees it: where it stands and what went wrong last."""
    return {**refund(row), "out_refund_no": row.out_refund_no, "last_error": row.last_error,
            "next_attempt_at": isoformat(row.next_attempt_at) if row.status == REQUESTED else None,
            "requested_at": isoformat(row.requested_at), "stuck": stuck}
