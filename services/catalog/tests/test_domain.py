"""Catalog rules, without a broker or a database."""
import pytest

from plumbing.errors import BadRequest, Conflict, NotFound
from services.catalog import domain, schemas


def sku(spec="红色 / L", price=1990, market_price=None, **extra):
    return {"spec": spec, "price": price, "market_price": market_price, **extra}


# --- SKU lists ----------------------------------------------------------------

def test_a_valid_sku_list_passes():
    domain.check_skus([sku("红色 / L"), sku("红色 / XL", market_price=2990)])


@pytest.mark.parametrize("count", [0, domain.MAX_SKUS + 1])
def test_a_product_has_between_one_and_fifty_skus(count):
    skus = [sku(f"规格{i}") for i in range(count)]
    with pytest.raises(BadRequest) as raised:
        domain.check_skus(skus)
    assert raised.value.code == "validation_failed"
    assert "skus" in raised.value.details


def test_fifty_skus_are_allowed():
    domain.check_skus([sku(f"规格{i}") for i in range(domain.MAX_SKUS)])


@pytest.mark.parametrize("twin", ["红色 / L", "红色  /  l", " 红色 / L "])
def test_specs_are_unique_ignoring_case_and_spacing(twin):
    with pytest.raises(BadRequest) as raised:
        domain.check_skus([sku("红色 / L"), sku(twin)])
    assert list(raised.value.details) == ["skus.1.spec"]


def test_market_price_may_not_be_below_price():
    with pytest.raises(BadRequest) as raised:
        domain.check_skus([sku(price=1990, market_price=1989)])
    assert list(raised.value.details) == ["skus.0.market_price"]
    domain.check_skus([sku(price=1990, market_price=1990)])


def current_skus():
    return [{"id": 1, "spec": "5斤", "price": 2990, "market_price": 3990, "stock": 10},
            {"id": 2, "spec": "10斤", "price": 5990, "market_price": None, "stock": 5}]


def test_sku_plan_updates_by_id_adds_without_id_and_removes_the_rest():
    final, removed = domain.plan_sku_changes(
        current_skus(), [{"id": 1, "price": 2790}, {"spec": "3斤", "price": 1990, "stock": 7}])
    bare = {"code": None, "image_url": None, "spec_values": []}
    assert final == [
        {"id": 1, "spec": "5斤", "price": 2790, "market_price": 3990, "stock": 10, **bare},
        {"id": None, "spec": "3斤", "price": 1990, "market_price": None, "stock": 7, **bare}]
    assert removed == [2]


def test_sku_plan_checks_the_merged_list():
    # the new price is checked against the market price the SKU already has
    with pytest.raises(BadRequest) as raised:
        domain.plan_sku_changes(current_skus(), [{"id": 1, "price": 4990}, {"id": 2}])
    assert list(raised.value.details) == ["skus.0.market_price"]
    # a new SKU may not take a spec that an updated one keeps
    with pytest.raises(BadRequest):
        domain.plan_sku_changes(current_skus(),
                                [{"id": 1}, {"id": 2}, {"spec": "5斤", "price": 1, "stock": 1}])


@pytest.mark.parametrize("entries, message", [
    ([{"id": 99}], "This product has no SKU 99."),
    ([{"id": 1}, {"id": 1, "price": 100}], "SKU 1 is listed twice."),
])
def test_sku_plan_refuses_foreign_or_repeated_ids(entries, message):
    with pytest.raises(BadRequest) as raised:
        domain.plan_sku_changes(current_skus(), entries)
    assert message in sum(raised.value.details.values(), [])


def test_removing_every_sku_is_refused():
    with pytest.raises(BadRequest):
        domain.plan_sku_changes(current_skus(), [])


def test_a_sku_with_reserved_stock_cannot_be_removed():
    domain.check_removable([2], reserved_ids={1})
    with pytest.raises(Conflict) as raised:
        domain.check_removable([1, 2], reserved_ids={1, 3})
    assert raised.value.code == "sku_has_reservations"
    assert list(raised.value.details) == ["1"]


def test_a_product_is_shown_at_its_cheapest_sku():
    skus = [{"id": 3, "price": 500}, {"id": 2, "price": 400}, {"id": 1, "price": 400}]
    assert domain.cheapest(skus)["id"] == 1
    assert domain.cheapest([]) is None


# --- product status ------------------------------------------------------------

@pytest.mark.parametrize("status", [domain.DRAFT, domain.UNPUBLISHED])
def test_draft_and_unpublished_products_can_be_published(status):
    assert domain.publish(status, sku_count=1) is True


def test_publishing_twice_changes_nothing():
    assert domain.publish(domain.PUBLISHED, sku_count=1) is False


def test_a_product_without_skus_cannot_be_published():
    with pytest.raises(Conflict) as raised:
        domain.publish(domain.DRAFT, sku_count=0)
    assert raised.value.code == "product_has_no_skus"


def test_unpublish_transitions():
    assert domain.unpublish(domain.PUBLISHED) is True
    assert domain.unpublish(domain.UNPUBLISHED) is False
    with pytest.raises(Conflict) as raised:
        domain.unpublish(domain.DRAFT)
    assert raised.value.code == "product_not_published"


# --- categories ----------------------------------------------------------------

def test_categories_have_two_levels():
    domain.check_parent(None)  # the parent is top level
    with pytest.raises(BadRequest) as raised:
        domain.check_parent(7)  # the parent has a parent itself
    assert raised.value.code == "category_too_deep"


def test_category_tree_is_ordered_by_sort_order_then_id():
    flat = [{"id": 1, "parent_id": None, "sort_order": 20},
            {"id": 2, "parent_id": None, "sort_order": 10},
            {"id": 3, "parent_id": 1, "sort_order": 5},
            {"id": 4, "parent_id": 1, "sort_order": 1},
            {"id": 5, "parent_id": 1, "sort_order": 1}]
    tree = domain.category_tree(flat)
    assert [top["id"] for top in tree] == [2, 1]
    assert tree[0]["children"] == []
    assert [child["id"] for child in tree[1]["children"]] == [4, 5, 3]


# --- reservations --------------------------------------------------------------

def test_reservation_items_are_merged_and_ordered_by_sku():
    items = [{"sku_id": 9, "quantity": 1}, {"sku_id": 2, "quantity": 3},
             {"sku_id": 9, "quantity": 2}]
    assert list(domain.merge_items(items).items()) == [(2, 3), (9, 3)]


def test_only_existing_skus_of_published_products_are_sellable():
    domain.check_sellable([1, 2], {1: domain.PUBLISHED, 2: domain.PUBLISHED})
    with pytest.raises(NotFound) as raised:
        domain.check_sellable([1, 3], {1: domain.PUBLISHED})
    assert (raised.value.code, list(raised.value.details)) == ("sku_not_found", ["3"])
    for status in (domain.DRAFT, domain.UNPUBLISHED):
        with pytest.raises(Conflict) as raised:
            domain.check_sellable([1, 2], {1: domain.PUBLISHED, 2: status})
        assert (raised.value.code, list(raised.value.details)) == ("product_not_published", ["2"])


def test_a_reused_reservation_id_must_ask_for_the_same_items():
    domain.check_same_items({1: 2}, {1: 2})
    with pytest.raises(Conflict) as raised:
        domain.check_same_items({1: 2}, {1: 3})
    assert raised.value.code == "reservation_id_reused"


def test_out_of_stock_names_each_short_sku():
    error = domain.out_of_stock({4: 3, 5: 1}, {4: 2})
    assert error.code == "out_of_stock"
    assert error.details == {"4": ["Only 2 left; 3 requested."]}


@pytest.mark.parametrize("state, changes", [(domain.RESERVED, True), (domain.COMMITTED, False)])
def test_commit_transitions(state, changes):
    assert domain.commit(state) is changes


def test_a_released_reservation_cannot_be_committed():
    with pytest.raises(Conflict) as raised:
        domain.commit(domain.RELEASED)
    assert raised.value.code == "reservation_released"


@pytest.mark.parametrize("state, changes", [(domain.RESERVED, True), (domain.RELEASED, False)])
def test_release_transitions(state, changes):
    assert domain.release(state) is changes


def test_a_committed_reservation_cannot_be_released():
    with pytest.raises(Conflict) as raised:
        domain.release(domain.COMMITTED)
    assert raised.value.code == "reservation_committed"


# --- input schemas (no I/O either) ----------------------------------------------

@pytest.mark.parametrize("price", [0, -1, True, 19.9, "1990", None])
def test_sku_price_must_be_a_positive_whole_number_of_fen(price):
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.ProductIn,
                     {"title": "苹果", "skus": [{"spec": "5斤", "price": price, "stock": 1}]})
    assert list(raised.value.details) == ["skus.0.price"]


def test_blank_title_and_long_spec_are_refused():
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.ProductIn,
                     {"title": "   ", "skus": [{"spec": "x" * 65, "price": 1, "stock": 0}]})
    assert set(raised.value.details) == {"title", "skus.0.spec"}


def test_a_new_sku_in_an_update_needs_price_and_stock():
    # its spec (or spec values) depends on the spec groups: domain judges it
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.ProductChange, {"skus": [{"spec": "5斤"}]})
    assert set(raised.value.details) == {"skus.0.price", "skus.0.stock"}


# --- prices against group prices ------------------------------------------------

def test_only_an_edit_that_lowers_a_price_there_is_can_meet_a_group_price():
    current = {1: 2990, 2: 3990}
    assert domain.lowers_a_price(current, [{"id": 1, "price": 2989}, {"id": 2}])
    assert not domain.lowers_a_price(current, [{"id": 1, "price": 2990}, {"id": 2, "price": 5000}])
    assert not domain.lowers_a_price(current, [{"id": 1}, {"price": 10, "spec": "new"}])


def test_a_price_at_or_below_its_group_price_is_refused_naming_sku_and_group_price():
    group_prices = [{"campaign_id": 5, "sku_id": 1, "group_price": 1990},
                    {"campaign_id": 5, "sku_id": 2, "group_price": 2990}]
    domain.check_above_group_prices([{"id": 1, "price": 1991}, {"id": 2, "price": 2991},
                                     {"id": None, "price": 10}], group_prices)
    with pytest.raises(Conflict) as raised:
        domain.check_above_group_prices([{"id": 1, "price": 1990}, {"id": 2, "price": 3000}],
                                        group_prices)
    assert raised.value.code == "price_below_group_price"
    assert raised.value.details == {"1": ["Campaign 5 sells it at 1990 fen: the price must be "
                                          "above that."]}
    domain.check_above_group_prices([{"id": 3, "price": 1}], group_prices)  # not in the campaign
