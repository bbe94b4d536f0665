"""The kit's shared field types (ids, money, quantities, paging), the page view and
`Args` records: each bound, each refusal of a non-integer, each default."""
import dataclasses

import pytest
from marshmallow import Schema, fields

from plumbing.errors import BadRequest
from plumbing.money import MAX_ORDER_FEN
from plumbing.paging import page
from plumbing.validation import (
    MAX_ID,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_QUANTITY,
    Args,
    Changes,
    Fen,
    Id,
    OptionalId,
    PageArgs,
    PageSize,
    Quantity,
    Whole,
    ids,
    load,
)

NOT_INTEGERS = [True, False, "1", 1.0, 1.5, None, [], {}]


def refusal(schema, data):
    with pytest.raises(BadRequest) as raised:
        load(schema, data)
    assert raised.value.code == "validation_failed"
    return raised.value.details


def one_field(field):
    return Schema.from_dict({"value": field})


@pytest.mark.parametrize("value", [1, MAX_ID])
def test_an_id_is_1_to_max_id(value):
    assert load(one_field(Id(required=True)), {"value": value}) == {"value": value}


@pytest.mark.parametrize("value", [0, -1, MAX_ID + 1, 2**63])
def test_an_id_out_of_range_is_refused(value):
    assert refusal(one_field(Id(required=True)), {"value": value}) == {
        "value": [f"Must be greater than or equal to 1 and less than or equal to {MAX_ID}."]}


@pytest.mark.parametrize("field", [Id, Fen, Quantity, lambda **kwargs: Whole(0, 5, **kwargs)])
@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_integer_fields_are_strict(field, value):
    assert "value" in refusal(one_field(field(required=True)), {"value": value})


def test_an_optional_id_may_be_absent_or_null():
    schema = one_field(OptionalId())
    assert load(schema, {}) == {"value": None}
    assert load(schema, {"value": None}) == {"value": None}
    assert load(schema, {"value": 7}) == {"value": 7}
    assert "value" in refusal(schema, {"value": 0})


def test_money_is_1_to_one_orders_most_by_default_in_fen_words():
    schema = one_field(Fen(required=True))
    assert load(schema, {"value": 1}) == {"value": 1}
    assert load(schema, {"value": MAX_ORDER_FEN}) == {"value": MAX_ORDER_FEN}
    for value in (0, MAX_ORDER_FEN + 1):
        assert refusal(schema, {"value": value}) == {
            "value": [f"Must be between 1 and {MAX_ORDER_FEN} fen."]}


def test_money_bounds_and_wording_are_arguments():
    schema = one_field(Fen(minimum=0, error=None, required=True))
    assert load(schema, {"value": 0}) == {"value": 0}
    assert refusal(schema, {"value": -1}) == {"value": [
        f"Must be greater than or equal to 0 and less than or equal to {MAX_ORDER_FEN}."]}


def test_a_quantity_is_1_to_max_quantity():
    schema = one_field(Quantity(required=True))
    assert load(schema, {"value": MAX_QUANTITY}) == {"value": MAX_QUANTITY}
    assert "value" in refusal(schema, {"value": 0})
    assert "value" in refusal(schema, {"value": MAX_QUANTITY + 1})


def test_whole_may_be_unbounded_above():
    assert load(one_field(Whole(1, None)), {"value": 10**12}) == {"value": 10**12}


def test_paging_defaults_and_bounds():
    assert load(PageArgs, {}) == {"page": 1, "page_size": 20}
    assert load(PageArgs, {"page": MAX_PAGE, "page_size": MAX_PAGE_SIZE}) == {
        "page": MAX_PAGE, "page_size": MAX_PAGE_SIZE}
    for bad in ({"page": 0}, {"page": MAX_PAGE + 1}, {"page": "2"}):
        assert "page" in refusal(PageArgs, bad)
    for bad in ({"page_size": 0}, {"page_size": MAX_PAGE_SIZE + 1}, {"page_size": True}):
        assert "page_size" in refusal(PageArgs, bad)


def test_a_listing_sets_its_own_default_page_size():
    class Reviews(PageArgs):
        page_size = PageSize(default=10)

    assert load(Reviews, {}) == {"page": 1, "page_size": 10}


def test_a_page_view_carries_what_a_listing_adds():
    assert page([1, 2], 9, 2, 2) == {"items": [1, 2], "total": 9, "page": 2, "page_size": 2}
    assert page([], 0, 1, 20, unread=3) == {"items": [], "total": 0, "page": 1,
                                           "page_size": 20, "unread": 3}


class TeamArgs(Args):
    team_id = Id(required=True)
    note = fields.String(load_default=None, allow_none=True)


class TeamPageArgs(TeamArgs, PageArgs):
    pass


def test_args_load_into_a_frozen_record():
    args = load(TeamArgs, {"team_id": 5})
    assert (args.team_id, args.note) == (5, None)
    assert args.as_kwargs() == {"team_id": 5, "note": None}
    assert type(args).__name__ == "TeamArgs"
    with pytest.raises(dataclasses.FrozenInstanceError):
        args.team_id = 6


def test_args_keep_the_field_rules_and_their_errors():
    assert refusal(TeamArgs, {"team_id": 0}) == {"team_id": [
        f"Must be greater than or equal to 1 and less than or equal to {MAX_ID}."]}
    assert refusal(TeamArgs, {}) == {"team_id": ["Missing data for required field."]}
    assert refusal(TeamArgs, {"team_id": 1, "extra": 2}) == {"extra": ["Unknown field."]}


def test_args_mix_with_plain_schemas_each_with_its_own_record():
    args = load(TeamPageArgs, {"team_id": 5, "page": 2})
    assert args.as_kwargs() == {"team_id": 5, "note": None, "page": 2, "page_size": 20}
    assert type(args) is not type(load(TeamArgs, {"team_id": 5}))


def test_a_field_neither_required_nor_defaulted_is_a_mistake_in_the_schema():
    class Loose(Args):
        team_id = Id()

    with pytest.raises(TypeError, match="team_id"):
        load(Loose, {"team_id": 1})


def test_an_edit_that_changes_nothing_is_refused():
    class Rename(Changes):
        name = fields.String()

    assert load(Rename, {"name": "新"}) == {"name": "新"}
    assert refusal(Rename, {}) == {"_schema": ["Nothing to change."]}


def test_an_ids_schema_requires_each_id_and_adds_to_its_base():
    class Seat(Schema):
        quantity = Quantity(required=True)

    join = ids("team_id", base=Seat)
    assert load(join, {"team_id": 7, "quantity": 1}) == {"team_id": 7, "quantity": 1}
    assert set(refusal(join, {"team_id": 0})) == {"team_id", "quantity"}
    pair = ids("merchant_id", "product_id")
    assert pair.__name__ == "MerchantIdProductIdArgs"
    assert refusal(pair, {"merchant_id": 1, "product_id": "2"}) == {
        "product_id": ["Not a valid integer."]}
    assert load(ids("order_id", base=Args), {"order_id": 3}).order_id == 3
