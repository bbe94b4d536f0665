"""The catalog service in a real container, on the real RabbitMQ and PostgreSQL."""
import json
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from plumbing import clock
from plumbing.errors import BadRequest, Conflict, Forbidden, NotFound, Unavailable

MERCHANT, OTHER_MERCHANT = 1, 2


def apple(**overrides):
    return {"title": "烟台红富士苹果 5斤装", "subtitle": "脆甜多汁 产地直发",
            "image_urls": ["https://img.pintuan.example/apple-1.jpg"],
            "skus": [{"spec": "5斤 / 单果70-75mm", "price": 2990, "market_price": 3990,
                      "stock": 100},
                     {"spec": "5斤 / 单果80-85mm", "price": 3990, "stock": 50}],
            **overrides}


def one_sku(price=1000, stock=10, market_price=None, spec="默认"):
    return [{"spec": spec, "price": price, "stock": stock, "market_price": market_price}]


@pytest.fixture
def catalog(start_service):
    return start_service("catalog")


@pytest.fixture
def db(engine_of):
    return engine_of("catalog")


def product_events(db, product_id=None):
    with db.connect() as conn:
        payloads = conn.execute(sa.text("SELECT payload FROM outbox "
                                        "WHERE event_type = 'product_changed' ORDER BY seq"))
        events = [json.loads(payload)["data"] for payload in payloads.scalars()]
    return [e for e in events if product_id is None or e["id"] == product_id]


def row_counts(db):
    tables = ("categories", "products", "skus", "stock_reservations", "outbox")
    with db.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def stock_of(db, sku_id):
    with db.connect() as conn:
        return conn.execute(sa.text("SELECT stock FROM skus WHERE id = :id"),
                            {"id": sku_id}).scalar_one()


def published(rpc, merchant_id=MERCHANT, **overrides):
    product = rpc.catalog.create_product(merchant_id, apple(**overrides))
    return rpc.catalog.publish_product(merchant_id, product["id"])


# --- products, from draft to shop window ------------------------------------------

def test_a_draft_is_only_seen_by_shoppers_once_published(catalog, rpc):
    fruit = rpc.catalog.create_category({"name": "生鲜水果", "sort_order": 10})
    apples = rpc.catalog.create_category({"name": "水果", "parent_id": fruit["id"]})

    draft = rpc.catalog.create_product(MERCHANT, apple(category_id=apples["id"]))
    assert draft["status"] == "draft" and draft["version"] == 1
    assert [(s["spec"], s["price"], s["stock"], s["market_price"]) for s in draft["skus"]] == [
        ("5斤 / 单果70-75mm", 2990, 100, 3990), ("5斤 / 单果80-85mm", 3990, 50, None)]
    assert all(isinstance(s["id"], int) for s in draft["skus"])
    assert rpc.catalog.list_products()["total"] == 0
    with pytest.raises(NotFound) as raised:
        rpc.catalog.get_product(draft["id"])
    assert raised.value.code == "product_not_found"

    product = rpc.catalog.publish_product(MERCHANT, draft["id"])
    assert product["status"] == "published" and product["published_at"].endswith("Z")

    listing = rpc.catalog.list_products(category_id=fruit["id"])  # the parent shows its children
    assert (listing["total"], listing["page"], listing["page_size"]) == (1, 1, 20)
    assert listing["items"] == [{
        "id": draft["id"], "title": "烟台红富士苹果 5斤装", "subtitle": "脆甜多汁 产地直发",
        "cover_image": "https://img.pintuan.example/apple-1.jpg", "price": 2990,
        "market_price": 3990, "group_buy": False, "group_price": None, "sales": 0}]
    assert rpc.catalog.list_products(q="富士")["total"] == 1
    assert rpc.catalog.list_products(q="香蕉")["total"] == 0

    detail = rpc.catalog.get_product(draft["id"])
    assert detail["title"] == "烟台红富士苹果 5斤装" and detail["price"] == 2990
    assert [s["stock"] for s in detail["skus"]] == [100, 50]
    assert detail["campaign"] is None and detail["joinable_teams"] == []


def test_every_change_bumps_the_version_and_emits_one_snapshot(catalog, teams, rpc, db):
    product = rpc.catalog.create_product(MERCHANT, apple())
    first, second = product["skus"]
    rpc.catalog.update_product(MERCHANT, product["id"], {"title": "栖霞红富士苹果 5斤装"})
    rpc.catalog.update_product(MERCHANT, product["id"], {"skus": [
        {"id": first["id"], "price": 2790},
        {"spec": "10斤 / 单果80-85mm", "price": 6990, "stock": 20}]})
    rpc.catalog.publish_product(MERCHANT, product["id"])
    rpc.catalog.publish_product(MERCHANT, product["id"])  # already published: no change
    final = rpc.catalog.unpublish_product(MERCHANT, product["id"])

    assert final["version"] == 5 and final["status"] == "unpublished"
    events = product_events(db, product["id"])
    assert [(e["version"], e["status"]) for e in events] == [
        (1, "draft"), (2, "draft"), (3, "draft"), (4, "published"), (5, "unpublished")]
    assert events[1]["title"] == "栖霞红富士苹果 5斤装"
    assert [(s["spec"], s["price"]) for s in events[2]["skus"]] == [
        ("5斤 / 单果70-75mm", 2790), ("10斤 / 单果80-85mm", 6990)]
    assert second["id"] not in [s["id"] for s in events[2]["skus"]]
    assert final["skus"][0]["stock"] == 100  # a price change leaves the stock alone
    with pytest.raises(NotFound):
        rpc.catalog.get_product(product["id"])


def campaign_at_once(rpc, product, group_price):
    """A campaign for the product as soon as teams knows it (created from teams' copy)."""
    body = {"product_id": product["id"], "starts_at": clock.isoformat(clock.now()),
            "ends_at": clock.isoformat(clock.now() + timedelta(hours=1)), "team_size": 2,
            "validity_seconds": 600, "per_user_limit": 2,
            "skus": [{"sku_id": product["skus"][0]["id"], "group_price": group_price}]}
    deadline = time.monotonic() + 10
    while True:
        try:
            return rpc.teams.create_campaign(MERCHANT, body)
        except (NotFound, Conflict):  # teams has not heard of the product yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_price_cannot_fall_to_a_group_price_right_after_the_campaign(catalog, teams, rpc):
    product = published(rpc)
    sku = product["skus"][0]  # 2990 fen
    campaign = campaign_at_once(rpc, product, 1990)
    for price in (1990, 1500):  # at once, no pause: catalog's own copy has not caught up
        with pytest.raises(Conflict) as raised:
            rpc.catalog.update_product(MERCHANT, product["id"], {"skus": [
                {"id": sku["id"], "price": price}, {"id": product["skus"][1]["id"]}]})
        assert raised.value.code == "price_below_group_price"
        assert raised.value.details == {str(sku["id"]): [
            f"Campaign {campaign['id']} sells it at 1990 fen: the price must be above that."]}
    assert rpc.catalog.admin_get_product(MERCHANT, product["id"])["skus"][0]["price"] == 2990
    lowered = rpc.catalog.update_product(MERCHANT, product["id"], {"skus": [
        {"id": sku["id"], "price": 1991}, {"id": product["skus"][1]["id"]}]})
    assert lowered["skus"][0]["price"] == 1991
    rpc.teams.invalidate_campaign(MERCHANT, campaign["id"])  # the conflict ended explicitly
    cheap = rpc.catalog.update_product(MERCHANT, product["id"], {"skus": [
        {"id": sku["id"], "price": 990}, {"id": product["skus"][1]["id"]}]})
    assert cheap["skus"][0]["price"] == 990


def test_lowering_a_price_needs_teams_and_raising_it_does_not(catalog, rpc):
    product = published(rpc)
    first, second = product["skus"]
    raised = rpc.catalog.update_product(MERCHANT, product["id"], {"skus": [
        {"id": first["id"], "price": 3290}, {"id": second["id"]}]})
    assert raised["skus"][0]["price"] == 3290
    with pytest.raises(Unavailable):  # no teams to say the group prices: nothing changes
        rpc.catalog.update_product(MERCHANT, product["id"], {"skus": [
            {"id": first["id"], "price": 990}, {"id": second["id"]}]})
    assert rpc.catalog.admin_get_product(MERCHANT, product["id"])["skus"][0]["price"] == 3290


def test_the_teams_service_keeps_a_copy_from_the_event(start_service, rpc):
    start_service("catalog")
    start_service("teams")
    product = published(rpc)
    copy = None
    for _ in range(50):
        try:
            copy = rpc.teams.get_product_copy(product["id"])
            if copy["version"] == product["version"]:
                break
        except NotFound:
            pass
        time.sleep(0.1)
    assert copy == {"id": product["id"], "version": 2, "title": product["title"],
                    "status": "published", "merchant_id": MERCHANT,
                    "cover_image": product["cover_image"],
                    "skus": [{"id": s["id"], "spec": s["spec"], "price": s["price"]}
                             for s in product["skus"]]}


def test_another_merchants_product_is_not_found(catalog, rpc, db):
    product = rpc.catalog.create_product(MERCHANT, apple())
    calls = [lambda: rpc.catalog.admin_get_product(OTHER_MERCHANT, product["id"]),
             lambda: rpc.catalog.update_product(OTHER_MERCHANT, product["id"], {"title": "x"}),
             lambda: rpc.catalog.publish_product(OTHER_MERCHANT, product["id"]),
             lambda: rpc.catalog.unpublish_product(OTHER_MERCHANT, product["id"])]
    for call in calls:
        with pytest.raises(NotFound) as raised:
            call()
        assert raised.value.code == "product_not_found"
    assert rpc.catalog.admin_list_products(OTHER_MERCHANT)["total"] == 0
    assert rpc.catalog.admin_get_product(MERCHANT, product["id"])["version"] == 1
    assert len(product_events(db)) == 1


def test_any_products_snapshot_is_found_by_id_for_a_lagging_copy(catalog, rpc):
    draft = rpc.catalog.create_product(OTHER_MERCHANT, apple())
    found = rpc.catalog.find_product_snapshot(draft["id"])  # a draft, another merchant's
    assert found == rpc.catalog.product_snapshot(OTHER_MERCHANT, draft["id"])
    assert rpc.catalog.find_product_snapshot(999999) is None


def test_uploads_are_checked_against_the_images_kept(catalog, rpc):
    never_uploaded = "/media/" + "ab" * 32 + ".png"
    assert rpc.catalog.check_uploads([]) == {"checked": 0}
    with pytest.raises(BadRequest) as raised:
        rpc.catalog.check_uploads([never_uploaded])
    assert list(raised.value.details) == ["image_urls.0"]


def test_bad_input_is_refused_and_writes_nothing(catalog, rpc, db):
    bad_products = [
        apple(skus=one_sku(price=-1)),
        apple(skus=[]),
        apple(skus=one_sku(spec="红色 / L") + one_sku(spec="红色 / L")),
        apple(skus=one_sku(price=2000, market_price=1000)),
        apple(title=""),
        {"title": "苹果", "skus": one_sku(), "unexpected": 1},
    ]
    for data in bad_products:
        with pytest.raises(BadRequest) as raised:
            rpc.catalog.create_product(MERCHANT, data)
        assert raised.value.code == "validation_failed" and raised.value.details
    with pytest.raises(NotFound) as raised:
        rpc.catalog.create_product(MERCHANT, apple(category_id=999))
    assert raised.value.code == "category_not_found"
    with pytest.raises(BadRequest) as raised:
        rpc.catalog.list_products(page_size=500)
    assert list(raised.value.details) == ["page_size"]
    with pytest.raises(BadRequest):
        rpc.catalog.list_products(min_price=500, max_price=100)
    with pytest.raises(BadRequest):
        rpc.catalog.create_product("1", apple())
    with pytest.raises(BadRequest):
        rpc.catalog.get_product(2**31)
    assert set(row_counts(db).values()) == {0}


def test_a_refused_update_changes_nothing(catalog, rpc, db):
    product = rpc.catalog.create_product(MERCHANT, apple())
    first, second = product["skus"]
    bad_updates = [
        {"skus": [{"id": first["id"], "spec": second["spec"]}, {"id": second["id"]}]},
        {"skus": [{"id": 12345, "price": 100}]},
        {"skus": []},
        {"title": "x" * 101},
        {},
    ]
    for data in bad_updates:
        with pytest.raises(BadRequest):
            rpc.catalog.update_product(MERCHANT, product["id"], data)
    with pytest.raises(NotFound):
        rpc.catalog.update_product(MERCHANT, product["id"], {"category_id": 999})
    assert rpc.catalog.admin_get_product(MERCHANT, product["id"]) == product
    assert len(product_events(db)) == 1


def test_merchant_lists_own_products_by_status(catalog, rpc):
    ids = [rpc.catalog.create_product(MERCHANT, apple(title=f"苹果 {i}"))["id"] for i in range(3)]
    rpc.catalog.publish_product(MERCHANT, ids[0])
    rpc.catalog.create_product(OTHER_MERCHANT, apple())

    everything = rpc.catalog.admin_list_products(MERCHANT, page_size=2)
    assert everything["total"] == 3 and len(everything["items"]) == 2
    assert rpc.catalog.admin_list_products(MERCHANT, page=2, page_size=2)["items"][0]["id"] \
        not in [p["id"] for p in everything["items"]]
    drafts = rpc.catalog.admin_list_products(MERCHANT, status="draft")
    assert sorted(p["id"] for p in drafts["items"]) == ids[1:]
    with pytest.raises(BadRequest):
        rpc.catalog.admin_list_products(MERCHANT, status="deleted")


def test_categories_form_a_two_level_tree(catalog, rpc):
    daily = rpc.catalog.create_category({"name": "日用百货", "sort_order": 30})
    fruit = rpc.catalog.create_category({"name": "生鲜水果", "sort_order": 10})
    paper = rpc.catalog.create_category({"name": "纸品", "parent_id": daily["id"]})
    with pytest.raises(BadRequest) as raised:
        rpc.catalog.create_category({"name": "抽纸", "parent_id": paper["id"]})
    assert raised.value.code == "category_too_deep"
    with pytest.raises(NotFound):
        rpc.catalog.create_category({"name": "抽纸", "parent_id": 999})
    tree = rpc.catalog.list_categories()
    assert [(c["name"], [k["name"] for k in c["children"]]) for c in tree] == [
        ("生鲜水果", []), ("日用百货", ["纸品"])]
    assert tree[0]["id"] == fruit["id"]


def test_shoppers_filter_and_sort_by_price_and_discount(catalog, rpc):
    cheap = published(rpc, title="卷纸 10卷", skus=one_sku(price=1990, market_price=2990))
    mid = published(rpc, title="抽纸 12包", skus=one_sku(price=2490))  # no market price
    dear = published(rpc, title="浴巾", skus=one_sku(price=4990, market_price=9980))
    rpc.catalog.create_product(MERCHANT, apple(title="卷纸 草稿"))  # a draft never shows

    def ids(**query):
        return [item["id"] for item in rpc.catalog.list_products(**query)["items"]]

    assert ids() == [dear["id"], mid["id"], cheap["id"]]  # newest first
    assert ids(sort="price_asc") == [cheap["id"], mid["id"], dear["id"]]
    assert ids(sort="price_desc") == [dear["id"], mid["id"], cheap["id"]]
    assert ids(sort="discount") == [dear["id"], cheap["id"], mid["id"]]
    assert ids(min_price=2000, max_price=4990) == [dear["id"], mid["id"]]
    assert ids(q="卷纸") == [cheap["id"]]
    assert ids(q="%") == []  # a wildcard is just a character
    second_page = rpc.catalog.list_products(page=2, page_size=2)
    assert second_page["total"] == 3 and [i["id"] for i in second_page["items"]] == [cheap["id"]]


# --- stock ------------------------------------------------------------------------

def test_a_repeated_reservation_reserves_once(catalog, rpc, db):
    sku = published(rpc)["skus"][0]
    first = rpc.catalog.reserve_stock("order-1", [{"sku_id": sku["id"], "quantity": 3}])
    again = rpc.catalog.reserve_stock("order-1", [{"sku_id": sku["id"], "quantity": 3}])
    assert first == again == {"reservation_id": "order-1", "state": "reserved",
                              "items": [{"sku_id": sku["id"], "quantity": 3}]}
    assert stock_of(db, sku["id"]) == 97
    with pytest.raises(Conflict) as raised:
        rpc.catalog.reserve_stock("order-1", [{"sku_id": sku["id"], "quantity": 4}])
    assert raised.value.code == "reservation_id_reused"
    assert stock_of(db, sku["id"]) == 97


def test_a_reservation_is_all_or_nothing(catalog, rpc, db):
    plenty, scarce = published(rpc)["skus"]
    with pytest.raises(Conflict) as raised:
        rpc.catalog.reserve_stock("order-2", [{"sku_id": plenty["id"], "quantity": 1},
                                              {"sku_id": scarce["id"], "quantity": 51}])
    assert raised.value.code == "out_of_stock"
    assert list(raised.value.details) == [str(scarce["id"])]
    assert (stock_of(db, plenty["id"]), stock_of(db, scarce["id"])) == (100, 50)
    assert row_counts(db)["stock_reservations"] == 0
    # nothing was kept, so the same id may try again with what is there
    rpc.catalog.reserve_stock("order-2", [{"sku_id": scarce["id"], "quantity": 50}])
    assert stock_of(db, scarce["id"]) == 0


def test_only_listed_skus_can_be_reserved(catalog, rpc):
    draft = rpc.catalog.create_product(MERCHANT, apple())
    with pytest.raises(Conflict) as raised:
        rpc.catalog.reserve_stock("order-3", [{"sku_id": draft["skus"][0]["id"], "quantity": 1}])
    assert raised.value.code == "product_not_published"
    with pytest.raises(NotFound) as raised:
        rpc.catalog.reserve_stock("order-3", [{"sku_id": 99999, "quantity": 1}])
    assert raised.value.code == "sku_not_found"
    with pytest.raises(BadRequest):
        rpc.catalog.reserve_stock("order-3", [{"sku_id": draft["skus"][0]["id"], "quantity": 0}])


def test_concurrent_reservations_never_oversell(catalog, rpc, db):
    sku = published(rpc, title="秒杀毛巾", skus=one_sku(stock=10))["skus"][0]
    # Sent all at once; the service works on up to max_workers of them in parallel.
    replies = [rpc.catalog.reserve_stock.call_async(f"rush-{n}", [{"sku_id": sku["id"],
                                                                   "quantity": 1}])
               for n in range(30)]
    outcomes = []
    for reply in replies:
        try:
            outcomes.append(reply.result()["state"])
        except Conflict as error:
            outcomes.append(error.code)
    assert outcomes.count("reserved") == 10
    assert outcomes.count("out_of_stock") == 20
    assert stock_of(db, sku["id"]) == 0
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT sum(quantity) FROM stock_reservations")
                            ).scalar_one() == 10


def test_concurrent_retries_of_one_reservation_reserve_once(catalog, rpc, db):
    sku = published(rpc, skus=one_sku(stock=10))["skus"][0]
    items = [{"sku_id": sku["id"], "quantity": 2}]
    replies = [rpc.catalog.reserve_stock.call_async("order-4", items) for _ in range(10)]
    results = [reply.result() for reply in replies]
    assert all(result == results[0] for result in results)
    assert results[0]["state"] == "reserved"
    assert stock_of(db, sku["id"]) == 8


def test_release_returns_stock_once(catalog, rpc, db):
    sku = published(rpc)["skus"][0]
    rpc.catalog.reserve_stock("order-5", [{"sku_id": sku["id"], "quantity": 4}])
    assert stock_of(db, sku["id"]) == 96
    assert rpc.catalog.release_reservation("order-5")["released"] == 4
    assert rpc.catalog.release_reservation("order-5")["released"] == 0
    assert stock_of(db, sku["id"]) == 100
    with pytest.raises(Conflict) as raised:
        rpc.catalog.commit_reservation("order-5")
    assert raised.value.code == "reservation_released"
    assert rpc.catalog.release_reservation("never-reserved") == {"released": 0}


def test_committed_stock_stays_taken(catalog, rpc, db):
    sku = published(rpc)["skus"][0]
    rpc.catalog.reserve_stock("order-6", [{"sku_id": sku["id"], "quantity": 2}])
    assert rpc.catalog.commit_reservation("order-6")["state"] == "committed"
    assert rpc.catalog.commit_reservation("order-6")["state"] == "committed"
    with pytest.raises(Conflict) as raised:
        rpc.catalog.release_reservation("order-6")
    assert raised.value.code == "reservation_committed"
    assert stock_of(db, sku["id"]) == 98
    with pytest.raises(NotFound) as raised:
        rpc.catalog.commit_reservation("never-reserved")
    assert raised.value.code == "reservation_not_found"


def test_a_sku_with_reserved_stock_cannot_be_removed(catalog, rpc, db):
    product = published(rpc)
    kept, held = product["skus"]
    rpc.catalog.reserve_stock("order-7", [{"sku_id": held["id"], "quantity": 1}])
    only_kept = {"skus": [{"id": kept["id"]}]}
    with pytest.raises(Conflict) as raised:
        rpc.catalog.update_product(MERCHANT, product["id"], only_kept)
    assert raised.value.code == "sku_has_reservations"
    assert len(rpc.catalog.admin_get_product(MERCHANT, product["id"])["skus"]) == 2
    rpc.catalog.release_reservation("order-7")
    updated = rpc.catalog.update_product(MERCHANT, product["id"], only_kept)
    assert [s["id"] for s in updated["skus"]] == [kept["id"]]


# --- demo shop --------------------------------------------------------------------

def test_demo_catalog_is_seeded_once(catalog, rpc, db):
    created = rpc.catalog.seed_demo_catalog(MERCHANT)
    assert created >= 12
    assert rpc.catalog.seed_demo_catalog(MERCHANT) == 0
    assert rpc.catalog.list_products(page_size=50)["total"] == created
    tree = rpc.catalog.list_categories()
    assert [(top["name"], len(top["children"])) for top in tree] == [
        ("生鲜水果", 1), ("粮油副食", 1), ("日用百货", 1), ("家居服饰", 2)]
    assert len(product_events(db)) == created
    apples = rpc.catalog.list_products(q="红富士")["items"]
    assert apples and rpc.catalog.get_product(apples[0]["id"])["skus"][0]["spec"].startswith("5斤")
    items = rpc.catalog.admin_list_products(MERCHANT, page_size=50)["items"]
    assert sorted(p["pinned_rank"] for p in items if p["pinned_rank"] is not None) == [1, 2, 3]
    [tee] = [p for p in items if len(p["spec_groups"]) == 2 and "T恤" in p["title"]]
    assert [group["name"] for group in tee["spec_groups"]] == ["颜色", "尺码"]
    assert all(sku["code"] and len(sku["spec_values"]) == 2 for sku in tee["skus"])
    assert tee["low_stock"] is True  # one size is nearly sold out, to show the filter


def test_demo_catalog_is_refused_in_production(start_service, rpc, monkeypatch):
    monkeypatch.setenv("PINTUAN_ENV", "production")
    start_service("catalog")
    with pytest.raises(Forbidden) as raised:
        rpc.catalog.seed_demo_catalog(MERCHANT)
    assert raised.value.code == "demo_data_forbidden"
