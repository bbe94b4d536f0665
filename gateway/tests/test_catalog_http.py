"""The catalogue's HTTP routes end to end through a real gateway container: image upload
(multipart, as wx.uploadFile sends it) and serving, the back office's category and
product routes, body limits. Catalog and teams run as real containers behind it."""
import hashlib
import json
from io import BytesIO

import pytest
import requests
import sqlalchemy as sa
from PIL import Image

from plumbing import settings, tokens

MERCHANT, SHOPPER = 1, 50


@pytest.fixture
def media(tmp_path, monkeypatch):
    path = tmp_path / "media"
    monkeypatch.setenv("PINTUAN_MEDIA_DIR", str(path))
    monkeypatch.setenv("PINTUAN_MAX_IMAGE_BYTES", "100000")
    return path


@pytest.fixture
def gateway(start_service, media):
    start_service("catalog")
    start_service("teams")
    start_service("reviews")  # the product page's review summary
    return f"http://{start_service('gateway').config['WEB_SERVER_ADDRESS']}"


@pytest.fixture
def db():
    engine = sa.create_engine(settings.database_url("catalog"))
    yield engine
    engine.dispose()


def bearer(user_id, role):
    return {"Authorization": f"Bearer {tokens.sign(user_id, [role])}"}


MERCHANT_AUTH, SHOPPER_AUTH = bearer(MERCHANT, "merchant"), bearer(SHOPPER, "customer")
OPS_AUTH = bearer(90, "ops")


def picture(fmt="JPEG", size=(120, 80), noise=False):
    image = Image.effect_noise(size, 90).convert("RGB") if noise else Image.new("RGB", size, "blue")
    buffer = BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def upload(base, path, data, auth, filename="photo.jpg"):
    return requests.post(f"{base}{path}", headers=auth, timeout=10,
                         files={"file": (filename, data, "application/octet-stream")})


def images_kept(db, media):
    with db.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM images")).scalar_one()
    return rows, sorted(path.name for path in media.iterdir()) if media.exists() else []


def error_code(answer):
    return answer.json()["error"]["code"]


# --- images ----------------------------------------------------------------------------

def test_an_uploaded_image_is_served_back_and_cached(gateway, db, media):
    data = picture()
    answer = upload(gateway, "/admin/v1/images", data, MERCHANT_AUTH)
    assert answer.status_code == 201, answer.text
    image = answer.json()
    digest = hashlib.sha256(data).hexdigest()
    assert image == {"id": image["id"], "url": f"/media/{digest}.jpg",
                     "content_type": "image/jpeg", "size": len(data), "width": 120, "height": 80}

    served = requests.get(gateway + image["url"], timeout=10)
    assert served.status_code == 200 and served.content == data
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["ETag"] == f'"{digest}"'
    assert "max-age=31536000" in served.headers["Cache-Control"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    again = requests.get(gateway + image["url"], headers={"If-None-Match": served.headers["ETag"]},
                         timeout=10)
    assert again.status_code == 304 and again.content == b""

    # a shopper's review picture: the same picture is the same image
    mine = upload(gateway, "/api/v1/images", data, SHOPPER_AUTH, filename="IMG_0001.JPG")
    assert mine.status_code == 201 and mine.json() == image
    assert images_kept(db, media) == (1, [f"{digest}.jpg"])

    for missing in (f"/media/{'0' * 64}.jpg", "/media/x.jpg", f"/media/{digest}.png",
                    f"/media/{digest.upper()}.jpg", f"/media/{digest}.jpg.bak"):
        answer = requests.get(gateway + missing, timeout=10)
        assert answer.status_code == 404 and error_code(answer) == "image_not_found", missing
    for escape in ("/media/..%2F..%2Fetc%2Fpasswd", "/media/../../etc/passwd"):
        assert requests.get(gateway + escape, timeout=10).status_code == 404


@pytest.mark.parametrize("data, filename, status, code", [
    (b"hello, I am a text file", "photo.jpg", 400, "unsupported_image_type"),
    (b"<svg onload='alert(1)'/>", "icon.png", 400, "unsupported_image_type"),
    (picture("BMP"), "scan.bmp", 400, "unsupported_image_type"),
    (picture("PNG", size=(230, 230), noise=True), "big.png", 413, "image_too_large"),
    (picture("PNG", size=(1000, 1000), noise=True), "huge.png", 413, "body_too_large"),
])
def test_a_refused_upload_writes_nothing(gateway, db, media, data, filename, status, code):
    answer = upload(gateway, "/admin/v1/images", data, MERCHANT_AUTH, filename=filename)
    assert (answer.status_code, error_code(answer)) == (status, code), answer.text
    assert images_kept(db, media) == (0, [])


def test_who_may_upload_and_how(gateway, db, media):
    data = picture()
    assert upload(gateway, "/admin/v1/images", data, {}).status_code == 401
    assert upload(gateway, "/admin/v1/images", data, SHOPPER_AUTH).status_code == 403
    assert upload(gateway, "/api/v1/images", data, MERCHANT_AUTH).status_code == 403
    as_json = requests.post(f"{gateway}/admin/v1/images", headers=MERCHANT_AUTH, timeout=10,
                            json={"file": "aGVsbG8="})
    assert as_json.status_code == 400 and "file" in as_json.json()["error"]["details"]
    wrong_field = requests.post(f"{gateway}/admin/v1/images", headers=MERCHANT_AUTH, timeout=10,
                                files={"image": ("a.jpg", data)})
    assert wrong_field.status_code == 400
    assert images_kept(db, media) == (0, [])


def test_other_routes_keep_the_one_megabyte_limit(gateway):
    body = json.dumps({"title": "x", "description": "好" * 600_000, "skus": []})
    answer = requests.post(f"{gateway}/admin/v1/products", data=body, timeout=10,
                           headers={**MERCHANT_AUTH, "Content-Type": "application/json"})
    assert (answer.status_code, error_code(answer)) == (413, "body_too_large")


# --- the back office ------------------------------------------------------------------------

def call(gateway, method, path, auth=MERCHANT_AUTH, expect=200, **kwargs):
    answer = requests.request(method, gateway + path, headers=auth, timeout=10, **kwargs)
    assert answer.status_code == expect, answer.text
    return answer.json()


def test_categories_are_the_platforms_kept_by_ops(gateway):
    ops = {"auth": OPS_AUTH}
    clothes = call(gateway, "POST", "/admin/v1/categories", expect=201, json={"name": "服饰"},
                   **ops)
    tees = call(gateway, "POST", "/admin/v1/categories", expect=201,
                json={"name": "T恤", "parent_id": clothes["id"], "sort_order": 2}, **ops)
    icon = upload(gateway, "/admin/v1/images", picture("PNG"), OPS_AUTH).json()["url"]
    renamed = call(gateway, "PUT", f"/admin/v1/categories/{tees['id']}",
                   json={"name": "短袖T恤", "icon_url": icon}, **ops)
    assert (renamed["name"], renamed["icon_url"], renamed["parent_id"]) == (
        "短袖T恤", icon, clothes["id"])
    tree = call(gateway, "GET", "/api/v1/categories", auth={})["items"]
    assert [(c["name"], [k["name"] for k in c["children"]]) for c in tree] == [("服饰", ["短袖T恤"])]
    assert call(gateway, "GET", "/admin/v1/categories")["items"] == tree  # a merchant picks
    for method, path in (("POST", "/admin/v1/categories"),
                         ("PUT", f"/admin/v1/categories/{tees['id']}"),
                         ("DELETE", f"/admin/v1/categories/{tees['id']}")):
        refused = call(gateway, method, path, expect=403, json={"name": "我的分类"})
        assert refused["error"]["code"] == "wrong_role"  # a merchant cannot change the tree

    refused = call(gateway, "DELETE", f"/admin/v1/categories/{clothes['id']}", expect=409, **ops)
    assert refused["error"]["code"] == "category_has_children"
    deep = call(gateway, "PUT", f"/admin/v1/categories/{clothes['id']}", expect=400,
                json={"parent_id": tees["id"]}, **ops)
    assert deep["error"]["code"] == "category_too_deep"
    call(gateway, "PUT", f"/admin/v1/categories/{tees['id']}", expect=400,
         json={"icon_url": "file:///etc/passwd"}, **ops)
    call(gateway, "PUT", f"/admin/v1/categories/{tees['id']}", auth=SHOPPER_AUTH, expect=403,
         json={"name": "x"})
    assert call(gateway, "DELETE", f"/admin/v1/categories/{tees['id']}", **ops) == \
        {"deleted": tees["id"]}
    call(gateway, "DELETE", f"/admin/v1/categories/{tees['id']}", expect=404, **ops)


TEE = {"title": "纯棉圆领T恤", "description": "<p>200g 精梳棉</p>",
       "video_url": "https://v.pintuan.example/tee.mp4", "low_stock_threshold": 10,
       "spec_groups": [{"name": "颜色", "values": ["白色", "黑色"]},
                       {"name": "尺码", "values": ["M", "L"]}],
       "skus": [{"spec_values": ["白色", "M"], "price": 3990, "market_price": 6990, "stock": 50,
                 "code": "TS-WHT-M"},
                {"spec_values": ["黑色", "L"], "price": 4290, "stock": 6, "code": "TS-BLK-L"}]}


def test_a_product_with_spec_groups_through_the_back_office(gateway, db):
    picture_url = upload(gateway, "/admin/v1/images", picture(), MERCHANT_AUTH).json()["url"]
    product = call(gateway, "POST", "/admin/v1/products", expect=201,
                   json={**TEE, "image_urls": [picture_url]})
    assert [(s["spec"], s["code"]) for s in product["skus"]] == [
        ("白色 / M", "TS-WHT-M"), ("黑色 / L", "TS-BLK-L")]
    assert (product["cover_image"], product["low_stock"], product["sales"]) == (
        picture_url, True, 0)
    call(gateway, "POST", f"/admin/v1/products/{product['id']}/publish")

    detail = call(gateway, "GET", f"/api/v1/products/{product['id']}", auth={})
    assert detail["spec_groups"] == TEE["spec_groups"]
    assert detail["video_url"] == TEE["video_url"] and detail["description"] == TEE["description"]
    assert detail["skus"][0] == {"id": product["skus"][0]["id"], "spec": "白色 / M",
                                 "spec_values": ["白色", "M"], "code": "TS-WHT-M",
                                 "image_url": None, "price": 3990, "market_price": 6990,
                                 "stock": 50}
    assert (detail["sales"], detail["sales_7d"], detail["campaign"]) == (0, 0, None)

    black_l = product["skus"][1]
    edited = call(gateway, "PUT", f"/admin/v1/products/{product['id']}", json={
        "skus": [{"id": black_l["id"], "stock": 40, "image_url": picture_url},
                 {"spec_values": ["黑色", "M"], "price": 4290, "stock": 20}]})
    assert [s["spec"] for s in edited["skus"]] == ["黑色 / L", "黑色 / M"]
    assert edited["low_stock"] is False

    pinned = call(gateway, "POST", f"/admin/v1/products/{product['id']}/pin", json={"rank": 1})
    assert pinned["pinned_rank"] == 1
    call(gateway, "POST", f"/admin/v1/products/{product['id']}/pin", expect=400,
         json={"rank": "first"})
    unpinned = call(gateway, "POST", f"/admin/v1/products/{product['id']}/unpin")
    assert unpinned["pinned_rank"] is None

    mine = call(gateway, "GET", "/admin/v1/products", params={"low_stock": "false", "q": "T恤"})
    assert [p["id"] for p in mine["items"]] == [product["id"]]
    assert mine["items"][0]["skus"] and "sales_7d" in mine["items"][0]
    assert call(gateway, "GET", "/admin/v1/products", params={"low_stock": "true"})["total"] == 0
    call(gateway, "GET", "/admin/v1/products", params={"low_stock": "maybe"}, expect=400)


@pytest.mark.parametrize("change, field, status", [
    ({"skus": [{"spec_values": ["白色", "M"], "price": -1, "stock": 1}]}, "skus.0.price", 400),
    ({"skus": [{"spec_values": ["白色", "M"], "price": 100, "market_price": 99, "stock": 1}]},
     "skus.0.market_price", 400),
    ({"skus": [{"spec_values": ["红色", "M"], "price": 100, "stock": 1}]}, "skus.0.spec_values",
     400),
    ({"image_urls": ["/media/" + "0" * 64 + ".jpg"]}, "image_urls.0", 400),
    ({"image_urls": ["/etc/passwd"]}, "image_urls.0", 400),
    ({"category_id": 999}, None, 404),
])
def test_bad_products_get_a_4xx_and_write_nothing(gateway, db, change, field, status):
    answer = requests.post(f"{gateway}/admin/v1/products", headers=MERCHANT_AUTH, timeout=10,
                           json={**TEE, **change})
    assert answer.status_code == status, answer.text
    if field:
        assert field in answer.json()["error"]["details"]
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM products")).scalar_one() == 0


def test_openapi_documents_the_upload_as_multipart(gateway):
    document = call(gateway, "GET", "/openapi.json", auth={})
    for path in ("/admin/v1/images", "/api/v1/images"):
        body = document["paths"][path]["post"]["requestBody"]["content"]
        assert list(body) == ["multipart/form-data"]
    upload_schema = document["components"]["schemas"]["ImageUpload"]
    assert upload_schema["properties"]["file"]["format"] == "binary"
    assert "/admin/v1/categories/{category_id}" in document["paths"]
    assert "/admin/v1/products/{product_id}/pin" in document["paths"]
