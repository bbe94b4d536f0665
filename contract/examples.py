"""One example of each declared event: for the docs, and for tests that play another
service's event (`example(events.TeamFailed, team_id=7)` builds a checked event with the
fields a test cares about set, the rest as here)."""
from contract import events

T0 = "2026-12-01T10:00:00Z"
T1 = "2026-12-02T10:00:00Z"

SKU = {"id": 11, "spec": "红色 / 大", "spec_values": ["红色", "大"], "code": "APPLE-RED-L",
       "image_url": None, "price": 2990, "market_price": 3990}

EXAMPLES = {
    events.UserRegistered: {"user_id": 42, "invited_by": None},
    events.ProductChanged: {
        "id": 5, "version": 3, "merchant_id": 2, "category_id": 1, "title": "烟台红富士苹果",
        "subtitle": "脆甜多汁", "description": "<p>产地直发</p>", "image_urls": ["/media/a.jpg"],
        "cover_image": "/media/a.jpg", "video_url": None,
        "spec_groups": [{"name": "颜色", "values": ["红色"]}, {"name": "规格", "values": ["大"]}],
        "published_at": T0, "price": 2990, "market_price": 3990, "status": "published",
        "pinned_rank": None, "low_stock_threshold": 5, "created_at": T0, "updated_at": T0,
        "skus": [SKU]},
    events.StockLow: {"merchant_id": 2, "product_id": 5, "sku_id": 11, "title": "烟台红富士苹果",
                      "spec": "红色 / 大", "stock": 3, "threshold": 5},
    events.ReviewReplied: {"review_id": 8, "user_id": 42, "product_id": 5},
    events.FeedbackAnswered: {"feedback_id": 4, "user_id": 42, "status": "resolved"},
    events.CampaignChanged: {"id": 1, "product_id": 5, "starts_at": T0, "ends_at": T1,
                             "invalidated": False, "skus": [{"sku_id": 11, "group_price": 1990}]},
    events.TeamOpened: {"team_id": 7, "campaign_id": 1, "product_id": 5, "leader_id": 42,
                        "opened_at": T0, "deadline": T1, "team_size": 3,
                        "share_token": "k3Jd9sQ2"},
    events.SeatPaid: {"team_id": 7, "order_id": 100, "user_id": 43, "member_count": 2,
                      "team_size": 3, "leader_id": 42},
    events.TeamSucceeded: {"team_id": 7, "order_ids": [100, 101, 102], "user_ids": [42, 43, 44]},
    events.TeamFailed: {"team_id": 7, "paid_order_ids": [100], "unpaid_order_ids": [101],
                        "user_ids": [42]},
    events.TeamCancelled: {"team_id": 7, "order_ids": [100]},
    events.SeatRefused: {"order_id": 101, "team_id": 7, "reason": "team_full"},
    events.OrderPlaced: {"order_id": 100, "user_id": 42, "merchant_id": 2, "team_id": 7,
                         "reason": None, "type": "team", "amount": 1990, "pay_deadline": T0},
    events.OrderCancelled: {"order_id": 100, "user_id": 42, "team_id": 7,
                            "reason": "payment_timeout"},
    events.OrderPaid: {"order_id": 100, "user_id": 42, "team_id": 7, "amount": 1990,
                       "paid_at": T0},
    events.OrderToShip: {"order_id": 100, "user_id": 42, "merchant_id": 2, "team_id": 7},
    events.RefundRequested: {"order_id": 100, "amount": 1990, "reason": "team_failed",
                             "refund_key": "team-failed-100"},
    events.OrderRefunded: {"order_id": 100, "user_id": 42, "team_id": 7, "amount": 1990,
                           "reason": "team_failed"},
    events.OrderShipped: {"order_id": 100, "user_id": 42, "carrier": "顺丰速运",
                          "tracking_no": "SF1234567890", "shipped_at": T0},
    events.OrderCompleted: {"order_id": 100, "user_id": 42, "merchant_id": 2, "product_id": 5,
                            "sku_id": 11, "spec": "红色 / 大", "title": "烟台红富士苹果",
                            "quantity": 1, "completed_at": T1},
    events.PaymentSucceeded: {"payment_id": 9, "order_id": 100, "amount": 1990, "paid_at": T0,
                              "transaction_id": "4200001234202612010000000001"},
    events.RefundSucceeded: {"refund_id": 3, "order_id": 100, "amount": 1990, "user_id": 42},
}


def example_data(declared, **fields):
    """The example payload (as on the wire) with `fields` put over it."""
    unknown = set(fields) - set(declared.model_fields)
    if unknown:
        raise TypeError(f"{declared.__name__} has no field {sorted(unknown)}")
    return {**EXAMPLES[declared], **fields}


def example(declared, **fields):
    """The example event with `fields` put over it, read as a listener reads it (times may
    be given as ISO text), then checked as a sender's."""
    return declared.from_data(example_data(declared, **fields))
