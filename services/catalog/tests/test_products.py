"""The full catalogue in a real catalog container, on the real RabbitMQ and PostgreSQL:
spec groups and SKUs, categories admin, recommended pins, uploaded images, sales
counters from orders' events, low-stock notices, the back office's filters."""
import base64
from datetime import datetime, timedelta, timezone
from io import BytesIO

import pytest
import sqlalchemy as sa
import time_machine
from PIL import Image

from contract import events
from contract.examples import example
from plumbing.errors import BadRequest, Conflict, NotFound, TooLarge
from plumbing.testing import event_envelope, outbox_events, publish_envelope, wait_until

MERCHANT, OTHER_MERCHANT, SHOPPER = 1, 2, 50
COLOUR = {"name": "颜色", "values": ["白色", "黑色"]}
SIZE = {"name": "尺码", "values": ["M", "L", "XL"]}


@pytest.fixture
def media(tmp_path, monkeypatch):
    path = tmp_path / "media"
    monkeypatch.setenv("PINTUAN_MEDIA_DIR", str(path))
    return path


@pytest.fixture
def catalog(start_service, media):
    return start_service("catalog")


@pytest.fixture
def db(engine_of):
    return engine_of("catalog")


def count(db, table, where="TRUE", **params):
    with db.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}"),
                            params).scalar_one()


def tee(**overrides):
    return {"title": "纯棉圆领T恤", "subtitle": "200g精梳棉",
            "description": "<p>领口<b>加固</b></p>", "video_url": "https://v.pintuan.example/t.mp4",
            "image_urls": ["https://img.pintuan.example/tee-1.jpg"], "spec_groups": [COLOUR, SIZE],
            "low_stock_threshold": 5,
            "skus": [{"spec_values": ["白色", "M"], "price": 3990, "market_price": 6990,
                      "stock": 100, "code": "TS-WHT-M"},
                     {"spec_values": ["黑色", "L"], "price": 3990, "stock": 8, "code": "TS-BLK-L",
                      "image_url": "https://img.pintuan.example/tee-black.jpg"}],
            **overrides}


def published(rpc, merchant_id=MERCHANT, **overrides):
    product = rpc.catalog.create_product(merchant_id, tee(**overrides))
    return rpc.catalog.publish_product(merchant_id, product["id"])


def refused(call, error=BadRequest):
    with pytest.raises(error) as raised:
        call()
    return raised.value


def picture(fmt="PNG", size=(64, 48), noise=False):
    image = Image.effect_noise(size, 90).convert("RGB") if noise else Image.new("RGB", size, "red")
    buffer = BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def b64(data):
    return base64.b64encode(data).decode("ascii")


# --- spec groups and SKUs -----------------------------------------------------------------

def test_a_product_with_spec_groups_shows_each_combination(catalog, rpc, db):
    product = published(rpc)
    assert product["spec_groups"] == [COLOUR, SIZE]
    assert [(s["spec"], s["spec_values"], s["code"]) for s in product["skus"]] == [
        ("白色 / M", ["白色", "M"], "TS-WHT-M"), ("黑色 / L", ["黑色", "L"], "TS-BLK-L")]
    assert (product["low_stock_threshold"], product["pinned_rank"], product["sales"],
            product["sales_7d"]) == (5, None, 0, 0)

    detail = rpc.catalog.get_product(product["id"])
    assert (detail["video_url"], detail["description"]) == ("https://v.pintuan.example/t.mp4",
                                                            "<p>领口<b>加固</b></p>")
    assert detail["spec_groups"] == [COLOUR, SIZE]
    assert detail["skus"][1] == {
        "id": product["skus"][1]["id"], "spec": "黑色 / L", "spec_values": ["黑色", "L"],
        "code": "TS-BLK-L", "image_url": "https://img.pintuan.example/tee-black.jpg",
        "price": 3990, "market_price": None, "stock": 8}
    assert (detail["sales"], detail["sales_7d"]) == (0, 0)

    snapshot = outbox_events(db, "product_changed")[-1]
    assert snapshot["spec_groups"] == [COLOUR, SIZE] and snapshot["pinned_rank"] is None
    assert snapshot["skus"][0]["spec"] == "白色 / M" and "stock" not in snapshot["skus"][0]
    assert "sales" not in snapshot and "sales_7d" not in snapshot


def test_groups_and_skus_change_together(catalog, rpc, db):
    product = rpc.catalog.create_product(MERCHANT, tee())
    white_m, black_l = product["skus"]
    more_colours = {"name": "颜色", "values": ["白色", "黑色", "藏青"]}
    updated = rpc.catalog.update_product(MERCHANT, product["id"], {
        "spec_groups": [more_colours, SIZE],
        "skus": [{"id": white_m["id"]}, {"id": black_l["id"], "spec_values": ["黑色", "XL"]},
                 {"spec_values": ["藏青", "M"], "price": 4290, "stock": 20, "code": "TS-NVY-M"}]})
    assert [s["spec"] for s in updated["skus"]] == ["白色 / M", "黑色 / XL", "藏青 / M"]
    assert updated["skus"][1]["id"] == black_l["id"] and updated["skus"][1]["stock"] == 8

    # a value the SKUs still use cannot leave its group, even with no SKUs sent
    error = refused(lambda: rpc.catalog.update_product(MERCHANT, product["id"], {
        "spec_groups": [COLOUR, SIZE]}))
    assert list(error.details) == ["skus.2.spec_values"]
    # dropping the groups keeps the SKUs, named as they were
    plain = rpc.catalog.update_product(MERCHANT, product["id"], {"spec_groups": []})
    assert [(s["spec"], s["spec_values"]) for s in plain["skus"]] == [
        ("白色 / M", []), ("黑色 / XL", []), ("藏青 / M", [])]
    assert plain["version"] == 3 and len(outbox_events(db, "product_changed")) == 3


@pytest.mark.parametrize("change, field", [
    ({"spec_groups": [COLOUR, {"name": "颜色", "values": ["红"]}]}, "spec_groups.1.name"),
    ({"skus": [{"spec_values": ["白色", "M"], "price": 1, "stock": 1},
               {"spec_values": ["白色", "m"], "price": 1, "stock": 1}]}, "skus.1.spec_values"),
    ({"skus": [{"spec_values": ["红色", "M"], "price": 1, "stock": 1}]}, "skus.0.spec_values"),
    ({"skus": [{"spec": "白色 / M", "price": 1, "stock": 1}]}, "skus.0.spec_values"),
    ({"skus": [{"spec_values": ["白色", "M"], "price": 1, "stock": 1, "code": "A"},
               {"spec_values": ["白色", "L"], "price": 1, "stock": 1, "code": "a"}]},
     "skus.1.code"),
    ({"spec_groups": [], "skus": [{"price": 1, "stock": 1}]}, "skus.0.spec"),
    ({"skus": [{"spec_values": ["白色", "M"], "price": 0, "stock": 1}]}, "skus.0.price"),
    ({"skus": [{"spec_values": ["白色", "M"], "price": -100, "stock": 1}]}, "skus.0.price"),
    ({"skus": [{"spec_values": ["白色", "M"], "price": 500, "market_price": 400, "stock": 1}]},
     "skus.0.market_price"),
    ({"skus": [{"spec_values": ["白色", "M"], "price": 1, "stock": -1}]}, "skus.0.stock"),
    ({"video_url": "javascript:alert(1)"}, "video_url"),
    ({"low_stock_threshold": -1}, "low_stock_threshold"),
    ({"image_urls": ["/media/" + "a" * 64 + ".jpg"]}, "image_urls.0"),  # never uploaded
])
def test_a_bad_product_is_refused_and_writes_nothing(catalog, rpc, db, change, field):
    error = refused(lambda: rpc.catalog.create_product(MERCHANT, tee(**change)))
    assert error.code == "validation_failed" and field in error.details
    assert count(db, "products") == count(db, "skus") == count(db, "outbox") == 0


def test_an_unknown_category_is_refused_and_writes_nothing(catalog, rpc, db):
    error = refused(lambda: rpc.catalog.create_product(MERCHANT, tee(category_id=999)), NotFound)
    assert error.code == "category_not_found"
    assert count(db, "products") == count(db, "outbox") == 0


def test_a_refused_edit_leaves_the_product_as_it_was(catalog, rpc, db):
    product = published(rpc)
    before = rpc.catalog.admin_get_product(MERCHANT, product["id"])
    for change in ({"spec_groups": [{"name": "颜色", "values": ["白色"]}, SIZE]},
                   {"skus": [{"id": product["skus"][0]["id"], "price": 9000}]},  # > market
                   {"category_id": 999}, {"low_stock_threshold": 10_000_001}):
        with pytest.raises((BadRequest, NotFound)):
            rpc.catalog.update_product(MERCHANT, product["id"], change)
    assert rpc.catalog.admin_get_product(MERCHANT, product["id"]) == before
    assert len(outbox_events(db, "product_changed")) == 2


def test_an_edit_keeps_open_orders_whole(catalog, teams, rpc):
    product = published(rpc)
    white_m, black_l = product["skus"]
    rpc.catalog.reserve_stock("order-1", [{"sku_id": black_l["id"], "quantity": 2}])
    error = refused(lambda: rpc.catalog.update_product(
        MERCHANT, product["id"], {"skus": [{"id": white_m["id"]}]}), Conflict)
    assert error.code == "sku_has_reservations"
    # other edits go through; the order keeps the units it holds
    updated = rpc.catalog.update_product(MERCHANT, product["id"], {
        "title": "纯棉T恤", "skus": [{"id": white_m["id"]}, {"id": black_l["id"], "price": 3590}]})
    assert updated["skus"][1]["stock"] == 6
    assert rpc.catalog.release_reservation("order-1")["released"] == 2


# --- pins -----------------------------------------------------------------------------------

def test_a_merchant_pins_and_unpins_a_product(catalog, rpc, db):
    product = published(rpc)
    pinned = rpc.catalog.pin_product(MERCHANT, product["id"], {"rank": 3})
    assert (pinned["pinned_rank"], pinned["version"]) == (3, 3)
    assert rpc.catalog.pin_product(MERCHANT, product["id"], {"rank": 3})["version"] == 3
    assert rpc.catalog.pin_product(MERCHANT, product["id"], {"rank": 1})["pinned_rank"] == 1
    unpinned = rpc.catalog.unpin_product(MERCHANT, product["id"])
    assert (unpinned["pinned_rank"], unpinned["version"]) == (None, 5)
    assert rpc.catalog.unpin_product(MERCHANT, product["id"])["version"] == 5
    assert [e["pinned_rank"] for e in outbox_events(db, "product_changed")] == [
        None, None, 3, 1, None]
    assert refused(lambda: rpc.catalog.pin_product(OTHER_MERCHANT, product["id"], {"rank": 1}),
                   NotFound).code == "product_not_found"
    refused(lambda: rpc.catalog.pin_product(MERCHANT, product["id"], {"rank": -1}))


# --- categories -----------------------------------------------------------------------------

def test_categories_are_renamed_reordered_and_moved_within_two_levels(catalog, rpc):
    clothes = rpc.catalog.create_category({"name": "服饰", "sort_order": 20})
    home = rpc.catalog.create_category({"name": "家居", "sort_order": 10})
    tees = rpc.catalog.create_category({"name": "T恤", "parent_id": clothes["id"]})
    towels = rpc.catalog.create_category({"name": "毛巾"})

    assert rpc.catalog.update_category(towels["id"], {"parent_id": home["id"], "name": "浴巾毛巾",
                                                      "icon_url": "https://img.pintuan.example/t.png"}
                                       ) == {"id": towels["id"], "name": "浴巾毛巾",
                                             "parent_id": home["id"], "sort_order": 0,
                                             "icon_url": "https://img.pintuan.example/t.png"}
    rpc.catalog.update_category(clothes["id"], {"sort_order": 5})
    tree = rpc.catalog.list_categories()
    assert [(c["name"], [k["name"] for k in c["children"]]) for c in tree] == [
        ("服饰", ["T恤"]), ("家居", ["浴巾毛巾"])]

    for category_id, parent_id in ((clothes["id"], home["id"]),  # it has children
                                   (towels["id"], tees["id"]),  # under a sub-category
                                   (home["id"], home["id"])):  # itself
        error = refused(lambda: rpc.catalog.update_category(category_id, {"parent_id": parent_id}))
        assert error.code == "category_too_deep"
    assert refused(lambda: rpc.catalog.update_category(towels["id"], {"parent_id": 999}),
                   NotFound).code == "category_not_found"
    assert refused(lambda: rpc.catalog.update_category(999, {"name": "x"}),
                   NotFound).code == "category_not_found"
    refused(lambda: rpc.catalog.update_category(towels["id"], {}))
    moved = rpc.catalog.update_category(towels["id"], {"parent_id": None})
    assert moved["parent_id"] is None
    assert rpc.catalog.list_categories() != tree


def test_only_an_empty_category_is_deleted(catalog, rpc, db):
    clothes = rpc.catalog.create_category({"name": "服饰"})
    tees = rpc.catalog.create_category({"name": "T恤", "parent_id": clothes["id"]})
    product = rpc.catalog.create_product(MERCHANT, tee(category_id=tees["id"]))
    assert refused(lambda: rpc.catalog.delete_category(clothes["id"]),
                   Conflict).code == "category_has_children"
    assert refused(lambda: rpc.catalog.delete_category(tees["id"]),
                   Conflict).code == "category_has_products"
    assert count(db, "categories") == 2
    rpc.catalog.update_product(MERCHANT, product["id"], {"category_id": None})
    assert rpc.catalog.delete_category(tees["id"]) == {"deleted": tees["id"]}
    assert rpc.catalog.delete_category(clothes["id"]) == {"deleted": clothes["id"]}
    assert rpc.catalog.list_categories() == []
    assert refused(lambda: rpc.catalog.delete_category(tees["id"]), NotFound).code == \
        "category_not_found"


# --- images -----------------------------------------------------------------------------------

def test_an_uploaded_image_is_kept_once_and_read_back(catalog, rpc, db, media):
    data = picture("PNG")
    image = rpc.catalog.upload_image(SHOPPER, b64(data))
    name = image["url"].removeprefix("/media/")
    assert image == {"id": image["id"], "url": f"/media/{name}", "content_type": "image/png",
                     "size": len(data), "width": 64, "height": 48}
    assert (media / name).read_bytes() == data
    assert rpc.catalog.upload_image(MERCHANT, b64(data)) == image  # the same picture: one image
    assert count(db, "images") == 1 and [p.name for p in media.iterdir()] == [name]
    answer = rpc.catalog.read_image(name)
    assert (answer["content_type"], base64.b64decode(answer["data_b64"])) == ("image/png", data)

    jpeg = rpc.catalog.upload_image(SHOPPER, b64(picture("JPEG")))
    assert jpeg["url"].endswith(".jpg") and jpeg["id"] != image["id"]
    for unknown in ("0" * 64 + ".png", "../../etc/passwd", name.replace(".png", ".gif"), ""):
        assert refused(lambda: rpc.catalog.read_image(unknown), NotFound).code == \
            "image_not_found"


def test_uploaded_images_illustrate_products_skus_and_categories(catalog, rpc):
    url = rpc.catalog.upload_image(MERCHANT, b64(picture("WEBP")))["url"]
    product = rpc.catalog.create_product(MERCHANT, tee(image_urls=[url, "https://x.example/a.jpg"]))
    assert product["cover_image"] == url
    updated = rpc.catalog.update_product(MERCHANT, product["id"], {
        "skus": [{"id": product["skus"][0]["id"], "image_url": url}, {"id": product["skus"][1]["id"]}]})
    assert updated["skus"][0]["image_url"] == url
    assert rpc.catalog.create_category({"name": "T恤", "icon_url": url})["icon_url"] == url
    missing = url.replace(url[7:15], "00000000")
    error = refused(lambda: rpc.catalog.update_product(MERCHANT, product["id"], {
        "skus": [{"id": product["skus"][0]["id"], "image_url": missing},
                 {"id": product["skus"][1]["id"]}]}))
    assert list(error.details) == ["skus.0.image_url"]


def test_a_refused_upload_leaves_no_file_and_no_row(catalog, rpc, db, media, monkeypatch):
    monkeypatch.setenv("PINTUAN_MAX_IMAGE_BYTES", "20000")
    big = picture("PNG", size=(200, 200), noise=True)
    assert len(big) > 20000
    error = refused(lambda: rpc.catalog.upload_image(MERCHANT, b64(big)), TooLarge)
    assert (error.code, error.status) == ("image_too_large", 413)
    for data, code in ((b"GIF89a but really a text file named photo.jpg", "unsupported_image_type"),
                       (picture("BMP"), "unsupported_image_type"),
                       (picture("JPEG", noise=True)[:900], "invalid_image")):
        assert refused(lambda: rpc.catalog.upload_image(MERCHANT, b64(data))).code == code
    assert refused(lambda: rpc.catalog.upload_image(MERCHANT, "@@not base64@@")).code == \
        "invalid_upload"
    assert refused(lambda: rpc.catalog.upload_image(0, b64(picture()))).code == \
        "validation_failed"
    assert count(db, "images") == 0
    assert not media.exists() or list(media.iterdir()) == []


# --- sales counters ---------------------------------------------------------------------------


def to_ship(amqp_uri, db, order_id, event_id=None, times=1):
    envelope = event_envelope(example(events.OrderToShip, **{"order_id": order_id, "user_id": SHOPPER}),
                              event_id)
    for _ in range(times):
        publish_envelope(amqp_uri, "orders", envelope)
    assert wait_until(lambda: count(db, "inbox", "event_id = :id", id=envelope["event_id"]) == 1)
    return envelope


def test_units_sold_are_counted_once_per_order(catalog, rpc, amqp_uri, db):
    tshirt, other = published(rpc), published(rpc, title="卫衣")
    white_m, black_l = tshirt["skus"]
    rpc.catalog.reserve_stock("order-21", [{"sku_id": white_m["id"], "quantity": 3},
                                           {"sku_id": black_l["id"], "quantity": 2},
                                           {"sku_id": other["skus"][0]["id"], "quantity": 1}])
    to_ship(amqp_uri, db, 21, times=2)  # one event delivered twice
    to_ship(amqp_uri, db, 21)  # and orders announcing it again
    assert (rpc.catalog.get_product(tshirt["id"])["sales"],
            rpc.catalog.get_product(other["id"])["sales"]) == (5, 1)
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT product_id, day, units FROM product_daily_sales "
                                    "ORDER BY product_id")).all() == [
            (tshirt["id"], datetime.now(timezone.utc).date(), 5),
            (other["id"], datetime.now(timezone.utc).date(), 1)]

    rpc.catalog.reserve_stock("order-22", [{"sku_id": white_m["id"], "quantity": 4}])
    rpc.catalog.reserve_stock("order-23", [{"sku_id": white_m["id"], "quantity": 1}])
    rpc.catalog.release_reservation("order-23")  # cancelled: never sold
    to_ship(amqp_uri, db, 22)
    detail = rpc.catalog.get_product(tshirt["id"])
    assert (detail["sales"], detail["sales_7d"]) == (9, 9)
    admin = rpc.catalog.admin_list_products(MERCHANT)["items"]
    assert {p["id"]: (p["sales"], p["sales_7d"]) for p in admin} == {
        tshirt["id"]: (9, 9), other["id"]: (1, 1)}


def test_sales_of_the_last_seven_days(catalog, rpc, amqp_uri, db):
    product = published(rpc)
    sku = product["skus"][0]
    now = datetime.now(timezone.utc)
    for order_id, days_ago, units in ((31, 7, 4), (32, 6, 2), (33, 0, 1)):
        rpc.catalog.reserve_stock(f"order-{order_id}", [{"sku_id": sku["id"], "quantity": units}])
        with time_machine.travel(now - timedelta(days=days_ago), tick=True):
            to_ship(amqp_uri, db, order_id)
    detail = rpc.catalog.get_product(product["id"])
    assert (detail["sales"], detail["sales_7d"]) == (7, 3)  # 7 days ago is out of the window
    with time_machine.travel(now + timedelta(days=1), tick=True):
        assert rpc.catalog.get_product(product["id"])["sales_7d"] == 1


# --- low stock -------------------------------------------------------------------------------

def stock_low_events(db):
    return outbox_events(db, "stock_low")


def test_the_merchant_is_told_once_when_stock_falls_to_the_threshold(catalog, rpc, db):
    product = published(rpc)  # threshold 5; black L has 8
    black_l = product["skus"][1]

    def reserve(order, quantity):
        rpc.catalog.reserve_stock(f"order-{order}", [{"sku_id": black_l["id"],
                                                      "quantity": quantity}])

    reserve(41, 2)  # 8 -> 6: above
    assert stock_low_events(db) == []
    reserve(42, 1)  # 6 -> 5: at the threshold
    assert stock_low_events(db) == [{
        "merchant_id": MERCHANT, "product_id": product["id"], "sku_id": black_l["id"],
        "title": "纯棉圆领T恤", "spec": "黑色 / L", "stock": 5, "threshold": 5}]
    reserve(43, 1)  # 5 -> 4: still low, already told
    rpc.catalog.release_reservation("order-41")  # 4 -> 6: a cancelled order ...
    reserve(44, 2)  # ... and 6 -> 4 again: the same shortage
    with pytest.raises(Conflict):
        reserve(45, 50)  # refused: nothing taken, nothing told
    assert len(stock_low_events(db)) == 1

    sku_ids = [{"id": sku["id"]} for sku in product["skus"]]
    rpc.catalog.update_product(MERCHANT, product["id"], {  # restocked above: re-armed
        "skus": [sku_ids[0], {"id": black_l["id"], "stock": 7}]})
    reserve(46, 3)  # 7 -> 4
    assert [event["stock"] for event in stock_low_events(db)] == [5, 4]

    rpc.catalog.update_product(MERCHANT, product["id"], {"low_stock_threshold": 2})  # re-armed
    reserve(47, 3)  # 4 -> 1: crosses the new threshold
    assert [(e["stock"], e["threshold"]) for e in stock_low_events(db)] == [(5, 5), (4, 5), (1, 2)]


# --- the back office's product list ----------------------------------------------------------

def test_merchants_filter_their_products(catalog, rpc):
    clothes = rpc.catalog.create_category({"name": "服饰"})
    tees = rpc.catalog.create_category({"name": "T恤", "parent_id": clothes["id"]})
    low = published(rpc, title="纯棉T恤 白", category_id=tees["id"])  # black L: 8 > 5
    rpc.catalog.update_product(MERCHANT, low["id"], {"low_stock_threshold": 8})  # now low
    fine = rpc.catalog.create_product(MERCHANT, tee(title="卫衣 100%棉", category_id=clothes["id"]))
    rpc.catalog.create_product(MERCHANT, tee(title="围巾"))
    rpc.catalog.create_product(OTHER_MERCHANT, tee(title="纯棉T恤 他家", category_id=tees["id"]))

    def ids(**filters):
        return sorted(p["id"] for p in rpc.catalog.admin_list_products(MERCHANT, **filters)["items"])

    assert ids(low_stock=True) == [low["id"]]
    assert low["id"] not in ids(low_stock=False) and len(ids(low_stock=False)) == 2
    assert ids(category_id=tees["id"]) == [low["id"]]
    assert ids(category_id=clothes["id"]) == sorted([low["id"], fine["id"]])  # with its children
    assert ids(q="纯棉") == [low["id"]]
    assert ids(q="100%") == [fine["id"]]  # % is a character, not a wildcard
    assert ids(q="t恤") == [low["id"]]
    assert ids(status="published", category_id=clothes["id"]) == [low["id"]]
    item = rpc.catalog.admin_list_products(MERCHANT, low_stock=True)["items"][0]
    assert item["low_stock"] is True and item["low_stock_threshold"] == 8
    with pytest.raises(BadRequest):
        rpc.catalog.admin_list_products(MERCHANT, low_stock="yes")
