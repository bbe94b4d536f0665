"""Payloads against their declarations: a sender's event is checked strictly when it is
built, a listener reads what it declares and ignores what a newer sender adds, and a
malformed payload is refused (the handler fails and the event waits in the dead letters)."""
from datetime import UTC, datetime

import pytest

from contract import events
from contract.declare import BadPayload
from contract.examples import EXAMPLES, example, example_data


@pytest.mark.parametrize("declared", list(EXAMPLES), ids=lambda d: d.key())
def test_every_example_is_a_valid_payload_both_ways(declared):
    received = example(declared)
    built = declared(**{field: getattr(received, field) for field in declared.model_fields})
    assert built.to_data() == received.to_data()
    assert declared.from_data(built.to_data()) == received


def test_a_team_opened_payload_is_read_as_declared():
    received = events.TeamOpened.from_data({
        "team_id": 5, "campaign_id": 2, "product_id": 3, "leader_id": 7,
        "opened_at": "2024-11-21T12:00:00Z", "deadline": "2024-11-21T12:30:00Z",
        "team_size": 3, "share_token": "AbC_12-x", "added_by_a_newer_sender": True})
    assert (received.team_id, received.leader_id, received.share_token, received.team_size) == (
        5, 7, "AbC_12-x", 3)
    assert received.deadline == datetime(2024, 11, 21, 12, 30, tzinfo=UTC)
    assert received.to_data()["deadline"] == "2024-11-21T12:30:00Z"


def test_a_sender_cannot_leave_out_add_or_mistype_a_field():
    fields = {"team_id": 7, "order_ids": [1], "user_ids": [2]}
    events.TeamSucceeded(**fields)
    with pytest.raises(BadPayload, match="user_ids"):
        events.TeamSucceeded(team_id=7, order_ids=[1])
    with pytest.raises(BadPayload, match="extra"):
        events.TeamSucceeded(**fields, leader_id=3)
    with pytest.raises(BadPayload, match="team_id"):
        events.TeamSucceeded(**{**fields, "team_id": "7"})  # a string is not an id
    with pytest.raises(BadPayload, match="opened_at"):  # a sender passes times, not text
        events.TeamOpened(**{**example_data(events.TeamOpened), "opened_at": "2024-11-21"})


@pytest.mark.parametrize("declared, fields, field", [
    (events.TeamOpened, {"deadline": "2024-11-21T12:30:00"}, "deadline"),  # no time zone
    (events.TeamOpened, {"share_token": "a/b"}, "share_token"),
    (events.TeamOpened, {"team_size": None}, "team_size"),
    (events.TeamOpened, {"team_size": 1}, "team_size"),
    (events.SeatPaid, {"team_size": None}, "team_size"),
    (events.TeamSucceeded, {"user_ids": None}, "user_ids"),
    (events.TeamSucceeded, {"user_ids": ["7"]}, "user_ids.0"),
    (events.RefundSucceeded, {"amount": 12.5}, "amount"),
    (events.RefundSucceeded, {"amount": 0}, "amount"),
    (events.RefundSucceeded, {"user_id": True}, "user_id"),
    (events.OrderShipped, {"tracking_no": None}, "tracking_no"),
    (events.OrderShipped, {"carrier": ""}, "carrier"),
    (events.StockLow, {"stock": -1}, "stock"),
    (events.StockLow, {"merchant_id": None}, "merchant_id"),
    (events.ReviewReplied, {"user_id": None}, "user_id"),
    (events.FeedbackAnswered, {"status": "closed"}, "status"),
    (events.ProductChanged, {"skus": [{"id": 1}]}, "skus.0.spec"),
])
def test_a_malformed_payload_is_refused_by_its_listener(declared, fields, field):
    data = example_data(declared, **fields)
    data = {key: value for key, value in data.items() if value is not None or key not in fields}
    with pytest.raises(BadPayload) as refused:
        declared.from_data(data)
    assert field in {".".join(str(part) for part in error["loc"])
                     for error in refused.value.errors()}


def test_a_stock_low_without_spec_reads_as_empty():
    data = {key: value for key, value in example_data(events.StockLow).items() if key != "spec"}
    assert events.StockLow.from_data(data).spec == ""


def test_examples_name_only_declared_fields():
    with pytest.raises(TypeError, match="leader"):
        example(events.TeamFailed, leader=1)


def test_a_campaign_payload_is_read_in_utc():
    received = events.CampaignChanged.from_data({**example_data(
        events.CampaignChanged, starts_at="2024-06-28T08:00:00+08:00"), "team_size": 3})
    assert received.starts_at == datetime(2024, 6, 28, tzinfo=UTC)
    assert received.starts_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("fields, field", [
    ({"invalidated": 1}, "invalidated"),
    ({"invalidated": None}, "invalidated"),
    ({"starts_at": "2024-06-28T00:00:00"}, "starts_at"),  # no time zone
    ({"ends_at": None}, "ends_at"),
    ({"product_id": "3"}, "product_id"),
    ({"skus": [{"sku_id": 30, "group_price": 0}]}, "skus.0.group_price"),
    ({"skus": None}, "skus"),
])
def test_a_malformed_campaign_payload_is_refused(fields, field):
    with pytest.raises(BadPayload) as refused:
        events.CampaignChanged.from_data(example_data(events.CampaignChanged, **fields))
    assert field in _where(refused.value)


@pytest.mark.parametrize("order_id", [None, 0, "11", True])
def test_an_order_event_needs_an_order_id(order_id):
    for declared in (events.OrderToShip, events.OrderCancelled, events.OrderRefunded):
        with pytest.raises(BadPayload):
            declared.from_data(example_data(declared, order_id=order_id))


def _where(error):
    return {".".join(str(part) for part in e["loc"]) for e in error.errors()}


def test_a_completed_order_is_read_with_what_reviews_keeps():
    data = {"order_id": 7, "user_id": 42, "merchant_id": 2, "product_id": 3, "sku_id": 30,
            "spec": "5斤 / 单果70-75mm", "title": "烟台红富士苹果", "quantity": 2,
            "completed_at": "2026-03-01T08:00:00+08:00", "amount": 3980}
    received = events.OrderCompleted.from_data(data)
    assert not hasattr(received, "amount")
    assert received.completed_at.isoformat() == "2026-03-01T00:00:00+00:00"
    with pytest.raises(BadPayload):
        events.OrderCompleted.from_data({**data, "user_id": None})
