"""Search, listing and the home page over HTTP through a real gateway container, with the
catalog as a real container behind it (query strings in, JSON out, 4xx for bad input)."""
import pytest
import requests


@pytest.fixture
def gateway(start_service):
    start_service("catalog")
    return f"http://{start_service('gateway').config['WEB_SERVER_ADDRESS']}"


@pytest.fixture
def products(gateway, rpc):
    ids = {}
    for key, title, price, market_price in (("apple", "烟台红富士苹果 5斤装", 2990, 3990),
                                            ("pear", "库尔勒香梨 5斤", 3590, None),
                                            ("case", "苹果手机壳 iPhone15", 1990, 2990)):
        product = rpc.catalog.create_product(1, {"title": title, "skus": [
            {"spec": "默认", "price": price, "market_price": market_price, "stock": 9}]})
        ids[key] = rpc.catalog.publish_product(1, product["id"])["id"]
    rpc.catalog.pin_product(1, ids["pear"], {"rank": 1})
    return ids


def get(base, path, **params):
    return requests.get(f"{base}{path}", params=params, timeout=10)


def test_shoppers_search_with_query_strings(gateway, products):
    answer = get(gateway, "/api/v1/products", q="pingguo", sort="price_asc")
    assert answer.status_code == 200
    body = answer.json()
    assert [item["id"] for item in body["items"]] == [products["case"], products["apple"]]
    assert (body["total"], body["page"], body["page_size"]) == (2, 1, 20)
    assert set(body["items"][0]) == {"id", "title", "subtitle", "cover_image", "price",
                                     "market_price", "group_buy", "group_price", "sales"}
    discounted = get(gateway, "/api/v1/products", has_discount="true", max_price="3000").json()
    assert [item["id"] for item in discounted["items"]] == [products["case"], products["apple"]]
    assert get(gateway, "/api/v1/products", group_buy="true").json()["total"] == 0
    assert get(gateway, "/api/v1/products", q="🍐").json()["items"] == []


@pytest.mark.parametrize("params, field", [
    ({"sort": "cheapest"}, "sort"),
    ({"page": "two"}, "page"),
    ({"page_size": "51"}, "page_size"),
    ({"q": "梨" * 51}, "q"),
    ({"group_buy": "yes"}, "group_buy"),
    ({"min_price": "500", "max_price": "100"}, "min_price"),  # checked by the catalog
    ({"page": "251"}, "page"),  # beyond the 5,000 results a listing pages through
])
def test_bad_search_input_is_a_400_with_details(gateway, params, field):
    answer = get(gateway, "/api/v1/products", **params)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "validation_failed" and field in error["details"]


def test_the_home_page_and_its_sections(gateway, products):
    home = get(gateway, "/api/v1/home", limit="2")
    assert home.status_code == 200
    sections = {s["key"]: s for s in home.json()["sections"]}
    assert list(sections) == ["recommended", "hot", "specials", "group_buy", "new_arrivals"]
    assert sections["recommended"]["title"] == "推荐"
    assert [i["id"] for i in sections["recommended"]["items"]] == [products["pear"]]
    assert [i["id"] for i in sections["specials"]["items"]] == [products["case"], products["apple"]]
    assert [i["id"] for i in sections["new_arrivals"]["items"]] == [products["case"],
                                                                   products["pear"]]
    more = get(gateway, "/api/v1/home/new_arrivals", page="2", page_size="2").json()
    assert (more["total"], [i["id"] for i in more["items"]]) == (3, [products["apple"]])
    missing = get(gateway, "/api/v1/home/cheapest")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "section_not_found")
    assert get(gateway, "/api/v1/home", limit="21").status_code == 400
    assert get(gateway, "/api/v1/home/hot", page_size="0").status_code == 400


def test_the_openapi_document_describes_the_search_routes(gateway):
    paths = get(gateway, "/openapi.json").json()["paths"]
    parameters = {p["name"] for p in paths["/api/v1/products"]["get"]["parameters"]}
    assert {"q", "category_id", "sort", "min_price", "max_price", "group_buy", "has_discount",
            "page", "page_size"} <= parameters
    assert "get" in paths["/api/v1/home"] and "get" in paths["/api/v1/home/{section}"]
