"""Rules of the full catalogue, without a broker or a database: spec groups and the
SKUs made of their values, category moves and deletes, low-stock notices, the sales
window, and the input schemas of these fields."""
from datetime import date
from itertools import product as combinations

import pytest

from plumbing.errors import BadRequest, Conflict
from services.catalog import domain, schemas

COLOUR = {"name": "颜色", "values": ["红色", "蓝色"]}
SIZE = {"name": "尺码", "values": ["M", "L", "XL"]}
MEDIA = "/media/" + "ab" * 32 + ".jpg"


def variant(*values, price=1990, market_price=None, code=None, **extra):
    return {"spec_values": list(values), "price": price, "market_price": market_price,
            "code": code, **extra}


def free(spec, price=1990, code=None, **extra):
    return {"spec": spec, "price": price, "market_price": None, "code": code, **extra}


def details(error_info):
    return error_info.value.details


# --- spec groups ----------------------------------------------------------------------

@pytest.mark.parametrize("groups", [
    [],
    [COLOUR],
    [COLOUR, SIZE],
    [COLOUR, SIZE, {"name": "款式", "values": ["常规"]}],
    [{"name": "颜色", "values": [f"色{i}" for i in range(domain.MAX_SPEC_VALUES)]}],
])
def test_up_to_three_groups_of_up_to_twenty_values_pass(groups):
    domain.check_spec_groups(groups)


def test_four_groups_are_refused():
    groups = [{"name": f"组{i}", "values": ["a"]} for i in range(domain.MAX_SPEC_GROUPS + 1)]
    with pytest.raises(BadRequest) as raised:
        domain.check_spec_groups(groups)
    assert list(details(raised)) == ["spec_groups"]


@pytest.mark.parametrize("values", [[], [f"v{i}" for i in range(domain.MAX_SPEC_VALUES + 1)]])
def test_a_group_has_between_one_and_twenty_values(values):
    with pytest.raises(BadRequest) as raised:
        domain.check_spec_groups([COLOUR, {"name": "尺码", "values": values}])
    assert list(details(raised)) == ["spec_groups.1.values"]


@pytest.mark.parametrize("first, twin", [("颜色", "颜色"), ("颜色", " 颜色 "), ("Size", "size")])
def test_group_names_are_distinct(first, twin):
    with pytest.raises(BadRequest) as raised:
        domain.check_spec_groups([{"name": first, "values": ["a"]}, {"name": twin, "values": ["a"]}])
    assert list(details(raised)) == ["spec_groups.1.name"]


@pytest.mark.parametrize("twin", ["L", "l", " L "])
def test_values_of_a_group_are_distinct_as_a_shopper_reads_them(twin):
    with pytest.raises(BadRequest) as raised:
        domain.check_spec_groups([{"name": "尺码", "values": ["M", "L", twin]}])
    assert list(details(raised)) == ["spec_groups.0.values.2"]


def test_the_same_value_in_two_groups_is_fine():
    domain.check_spec_groups([{"name": "上衣", "values": ["M"]}, {"name": "裤子", "values": ["M"]}])


# --- SKUs made of spec values -----------------------------------------------------------

def test_every_combination_of_the_groups_may_be_a_sku():
    skus = [variant(colour, size) for colour, size in
            combinations(COLOUR["values"], SIZE["values"])]
    settled = domain.check_skus(skus, [COLOUR, SIZE])
    assert [sku["spec"] for sku in settled] == [
        "红色 / M", "红色 / L", "红色 / XL", "蓝色 / M", "蓝色 / L", "蓝色 / XL"]
    assert settled[4]["spec_values"] == ["蓝色", "L"]


def test_a_product_need_not_sell_every_combination():
    settled = domain.check_skus([variant("蓝色", "XL")], [COLOUR, SIZE])
    assert settled[0]["spec"] == "蓝色 / XL"


def test_values_take_the_groups_spelling():
    [settled] = domain.check_skus([variant("红色", "xl")], [COLOUR, SIZE])
    assert (settled["spec"], settled["spec_values"]) == ("红色 / XL", ["红色", "XL"])


def test_with_groups_the_spec_is_worked_out_whatever_was_sent():
    [settled] = domain.check_skus([variant("红色", "M", spec="大红 M码")], [COLOUR, SIZE])
    assert settled["spec"] == "红色 / M"


@pytest.mark.parametrize("values", [
    [],  # none
    ["红色"],  # one short
    ["红色", "M", "M"],  # one too many
    ["M", "红色"],  # out of order
    ["绿色", "M"],  # not a value of 颜色
    ["红色", "XXL"],  # not a value of 尺码
])
def test_values_must_be_one_of_each_group_in_order(values):
    with pytest.raises(BadRequest) as raised:
        domain.check_skus([variant("蓝色", "M"), variant(*values)], [COLOUR, SIZE])
    assert list(details(raised)) == ["skus.1.spec_values"]


def test_a_combination_is_sold_once():
    skus = [variant("红色", "M"), variant("蓝色", "M"), variant("红色", "m")]
    with pytest.raises(BadRequest) as raised:
        domain.check_skus(skus, [COLOUR, SIZE])
    assert list(details(raised)) == ["skus.2.spec_values"]


def test_values_too_long_together_are_refused():
    groups = [{"name": f"组{i}", "values": ["长" * 20]} for i in range(3)]
    with pytest.raises(BadRequest) as raised:  # 3 x 20 + 2 separators > 64
        domain.check_skus([variant(*["长" * 20] * 3)], groups)
    assert list(details(raised)) == ["skus.0.spec_values"]


def test_a_product_with_groups_still_has_one_to_fifty_skus():
    many = [{"name": "A", "values": [f"a{i}" for i in range(10)]},
            {"name": "B", "values": [f"b{i}" for i in range(6)]}]
    skus = [variant(a, b) for a, b in combinations(many[0]["values"], many[1]["values"])]
    with pytest.raises(BadRequest) as raised:
        domain.check_skus(skus, many)
    assert list(details(raised)) == ["skus"]


# --- SKUs without groups -----------------------------------------------------------------

def test_without_groups_a_sku_names_itself():
    [settled] = domain.check_skus([free("5斤装")])
    assert (settled["spec"], settled["spec_values"]) == ("5斤装", [])


def test_without_groups_spec_values_are_refused():
    with pytest.raises(BadRequest) as raised:
        domain.check_skus([variant("红色")])
    assert list(details(raised)) == ["skus.0.spec"]


@pytest.mark.parametrize("sku", [{"price": 100}, {"price": 100, "spec": None}])
def test_without_groups_a_spec_is_required(sku):
    with pytest.raises(BadRequest) as raised:
        domain.check_skus([free("5斤"), sku])
    assert list(details(raised)) == ["skus.1.spec"]


# --- codes and prices ------------------------------------------------------------------------

@pytest.mark.parametrize("twin", ["TS-RED-M", "ts-red-m"])
def test_sku_codes_are_unique_within_a_product(twin):
    with pytest.raises(BadRequest) as raised:
        domain.check_skus([free("a", code="TS-RED-M"), free("b", code=twin)])
    assert list(details(raised)) == ["skus.1.code"]


def test_skus_without_a_code_are_fine():
    domain.check_skus([free("a"), free("b"), free("c", code="C-1")])


def test_every_wrong_sku_is_named_at_once():
    skus = [variant("红色", "M", code="X"), variant("红色", "M", code="x", price=500,
                                                   market_price=400)]
    with pytest.raises(BadRequest) as raised:
        domain.check_skus(skus, [COLOUR, SIZE])
    assert set(details(raised)) == {"skus.1.spec_values", "skus.1.code", "skus.1.market_price"}


# --- changes: groups and SKUs checked together ------------------------------------------------

def current():
    return [{"id": 1, "spec": "红色 / M", "spec_values": ["红色", "M"], "price": 1990,
             "market_price": None, "stock": 5, "code": "R-M", "image_url": None},
            {"id": 2, "spec": "蓝色 / L", "spec_values": ["蓝色", "L"], "price": 1990,
             "market_price": None, "stock": 5, "code": "B-L", "image_url": MEDIA}]


def keep_all():
    return [{"id": 1}, {"id": 2}]


def test_a_new_value_keeps_the_skus_valid():
    colours = {"name": "颜色", "values": ["红色", "蓝色", "绿色"]}
    final, removed = domain.plan_sku_changes(current(), keep_all() + [
        {"spec_values": ["绿色", "M"], "price": 2090, "stock": 3}], [colours, SIZE])
    assert [sku["spec"] for sku in final] == ["红色 / M", "蓝色 / L", "绿色 / M"]
    assert final[1]["image_url"] == MEDIA and final[1]["code"] == "B-L"
    assert removed == []


def test_a_value_removed_from_its_group_must_leave_the_skus_too():
    only_red = {"name": "颜色", "values": ["红色"]}
    with pytest.raises(BadRequest) as raised:
        domain.plan_sku_changes(current(), keep_all(), [only_red, SIZE])
    assert list(details(raised)) == ["skus.1.spec_values"]
    final, removed = domain.plan_sku_changes(current(), [{"id": 1}], [only_red, SIZE])
    assert ([sku["id"] for sku in final], removed) == ([1], [2])


def test_a_renamed_value_is_given_to_the_skus_in_the_same_change():
    crimson = {"name": "颜色", "values": ["大红", "蓝色"]}
    with pytest.raises(BadRequest):
        domain.plan_sku_changes(current(), keep_all(), [crimson, SIZE])
    final, _ = domain.plan_sku_changes(
        current(), [{"id": 1, "spec_values": ["大红", "M"]}, {"id": 2}], [crimson, SIZE])
    assert final[0]["spec"] == "大红 / M"


def test_a_new_group_needs_a_value_from_every_sku():
    fit = {"name": "版型", "values": ["修身", "宽松"]}
    with pytest.raises(BadRequest) as raised:
        domain.plan_sku_changes(current(), keep_all(), [COLOUR, SIZE, fit])
    assert set(details(raised)) == {"skus.0.spec_values", "skus.1.spec_values"}
    final, _ = domain.plan_sku_changes(
        current(), [{"id": 1, "spec_values": ["红色", "M", "修身"]},
                    {"id": 2, "spec_values": ["蓝色", "L", "宽松"]}], [COLOUR, SIZE, fit])
    assert [sku["spec"] for sku in final] == ["红色 / M / 修身", "蓝色 / L / 宽松"]


def test_without_groups_any_more_skus_keep_their_spec_as_free_text():
    final, _ = domain.plan_sku_changes(current(), keep_all(), [])
    assert [(sku["spec"], sku["spec_values"]) for sku in final] == [
        ("红色 / M", []), ("蓝色 / L", [])]


def test_an_updated_sku_may_not_take_another_ones_combination():
    with pytest.raises(BadRequest) as raised:
        domain.plan_sku_changes(current(), [{"id": 1, "spec_values": ["蓝色", "L"]}, {"id": 2}],
                                [COLOUR, SIZE])
    assert list(details(raised)) == ["skus.1.spec_values"]


def test_a_code_may_move_between_skus_in_one_change():
    final, _ = domain.plan_sku_changes(
        current(), [{"id": 1, "code": "B-L"}, {"id": 2, "code": "R-M"}], [COLOUR, SIZE])
    assert [sku["code"] for sku in final] == ["B-L", "R-M"]
    with pytest.raises(BadRequest) as raised:
        domain.plan_sku_changes(current(), [{"id": 1, "code": "b-l"}, {"id": 2}], [COLOUR, SIZE])
    assert list(details(raised)) == ["skus.1.code"]


# --- categories ------------------------------------------------------------------------------

def test_a_category_moves_under_a_top_level_one_or_to_the_top():
    domain.check_move(5, None, None, has_children=True)  # to the top: always fine
    domain.check_move(5, 1, None, has_children=False)


@pytest.mark.parametrize("category_id, parent_id, grandparent_id, has_children", [
    (5, 5, None, False),  # itself
    (5, 6, 1, False),  # under a sub-category: three levels
    (5, 1, None, True),  # it has children, which would sit on a third level
])
def test_a_move_never_makes_a_third_level(category_id, parent_id, grandparent_id, has_children):
    with pytest.raises(BadRequest) as raised:
        domain.check_move(category_id, parent_id, grandparent_id, has_children)
    assert raised.value.code == "category_too_deep"
    assert list(details(raised)) == ["parent_id"]


@pytest.mark.parametrize("children, products, code", [
    (1, 0, "category_has_children"), (0, 3, "category_has_products"),
    (2, 3, "category_has_children")])
def test_only_an_empty_category_is_deleted(children, products, code):
    domain.check_deletable(0, 0)
    with pytest.raises(Conflict) as raised:
        domain.check_deletable(children, products)
    assert raised.value.code == code


# --- low stock ---------------------------------------------------------------------------------

@pytest.mark.parametrize("before, after, threshold, told, notice", [
    (11, 10, 10, False, True),  # down to the threshold
    (15, 3, 10, False, True),  # past it
    (1, 0, 0, False, True),  # a threshold of 0: told when it sells out
    (12, 11, 10, False, False),  # still above
    (10, 9, 10, False, False),  # was not above: no new crossing
    (5, 0, 10, False, False),
    (11, 10, 10, True, False),  # told already, not restocked since
])
def test_a_notice_is_sent_when_stock_crosses_the_threshold(before, after, threshold, told,
                                                           notice):
    assert domain.low_stock_crossed(before, after, threshold, told) is notice


@pytest.mark.parametrize("told, stock, threshold, still", [
    (True, 5, 10, True),  # an edit that leaves it low keeps it told
    (True, 10, 10, True),
    (True, 11, 10, False),  # restocked above: re-armed
    (True, 5, 4, False),  # threshold lowered below the stock: re-armed
    (False, 5, 10, False),
    (None, 5, 10, False),  # a SKU not saved yet
])
def test_a_restock_above_the_threshold_rearms_the_notice(told, stock, threshold, still):
    assert domain.still_told_of_low_stock(told, stock, threshold) is still


def test_seven_days_of_sales_include_today():
    assert domain.sales_window_start(date(2024, 7, 3)) == date(2024, 6, 27)
    assert domain.sales_window_start(date(2024, 3, 1)) == date(2024, 2, 24)


# --- input schemas -------------------------------------------------------------------------------

def product(**overrides):
    return {"title": "T恤", "skus": [{"spec": "M", "price": 1990, "stock": 1}], **overrides}


@pytest.mark.parametrize("url", [
    "https://img.pintuan.example/a.jpg", "http://img.pintuan.example/a.png", MEDIA,
    "/media/" + "0" * 64 + ".webp", "/media/" + "f" * 64 + ".gif"])
def test_images_are_web_urls_or_uploaded_media(url):
    loaded = schemas.load(schemas.ProductIn, product(
        image_urls=[url], skus=[{"spec": "M", "price": 1, "stock": 1, "image_url": url}]))
    assert loaded["image_urls"] == [url] and loaded["skus"][0]["image_url"] == url
    assert schemas.load(schemas.CategoryIn, {"name": "T恤", "icon_url": url})["icon_url"] == url


@pytest.mark.parametrize("url", [
    "/media/../../etc/passwd", "/media/" + "ab" * 32 + ".bmp", "/media/" + "AB" * 32 + ".jpg",
    "/var/media/" + "ab" * 32 + ".jpg", "ftp://img.pintuan.example/a.jpg",
    "javascript:alert(1)", "img.pintuan.example/a.jpg", "https://" + "a" * 500 + ".com"])
def test_anything_else_is_not_an_image(url):
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.ProductIn, product(
            image_urls=[url], skus=[{"spec": "M", "price": 1, "stock": 1, "image_url": url}]))
    assert set(details(raised)) == {"image_urls.0", "skus.0.image_url"}
    with pytest.raises(BadRequest):
        schemas.load(schemas.CategoryIn, {"name": "T恤", "icon_url": url})


@pytest.mark.parametrize("field, value", [
    ("video_url", "ftp://v.pintuan.example/a.mp4"),
    ("video_url", MEDIA),  # uploads are pictures
    ("low_stock_threshold", -1),
    ("low_stock_threshold", schemas.MAX_STOCK + 1),
    ("low_stock_threshold", "10"),
    ("description", "<p>" + "好" * 20_000 + "</p>"),
    ("spec_groups", [{"name": "", "values": ["红色"]}]),
    ("spec_groups", [{"name": "颜色", "values": ["红色", "  "]}]),
    ("spec_groups", [{"name": "颜色"}]),
])
def test_product_fields_are_checked(field, value):
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.ProductIn, product(**{field: value}))
    assert list(details(raised))[0].startswith(field)


def test_product_defaults():
    loaded = schemas.load(schemas.ProductIn, product())
    assert (loaded["spec_groups"], loaded["video_url"], loaded["low_stock_threshold"]) == \
        ([], None, 10)
    assert loaded["skus"][0] | {"code": None, "image_url": None, "spec_values": []} == \
        loaded["skus"][0]


def test_rich_text_is_kept_as_given():
    html = '  <p style="color:red">好</p>\n<img src="/media/x.jpg">  '
    assert schemas.load(schemas.ProductIn, product(description=html))["description"] == html


@pytest.mark.parametrize("code", ["", "   ", "x" * 65])
def test_a_sku_code_is_not_blank_nor_too_long(code):
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.ProductIn, product(skus=[{"spec": "M", "price": 1, "stock": 1,
                                                       "code": code}]))
    assert list(details(raised)) == ["skus.0.code"]


@pytest.mark.parametrize("rank", [-1, 10_000, "1", True, None])
def test_a_pin_rank_is_a_small_whole_number(rank):
    with pytest.raises(BadRequest):
        schemas.load(schemas.PinArgs, {"rank": rank})


def test_a_category_change_needs_a_field():
    with pytest.raises(BadRequest):
        schemas.load(schemas.CategoryChange, {})
    assert schemas.load(schemas.CategoryChange, {"parent_id": None}) == {"parent_id": None}


@pytest.mark.parametrize("low_stock", ["true", 1, "yes"])
def test_admin_filters_take_real_booleans(low_stock):
    with pytest.raises(BadRequest):
        schemas.load(schemas.AdminListArgs, {"merchant_id": 1, "low_stock": low_stock})
