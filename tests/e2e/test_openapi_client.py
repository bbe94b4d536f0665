"""A client generated from the live /openapi.json (openapi-python-client, as a
mini-program's developer would make one) drives a team from the merchant's product to
its success, reading typed attributes; and the services' real answers hold no field the
gateway's schemas would silently drop.

The client is generated once, into a temporary directory, in about two seconds."""
import importlib
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import requests
from marshmallow import fields
from nameko.standalone.rpc import ClusterRpcProxy

from gateway.routing import ROUTES, load
from gateway.service import GatewayService
from plumbing import settings
from tests.e2e.stack import GATEWAY
from tests.e2e.test_group_buy import eventually  # WeChat Pay tells the shop a moment later

pytestmark = pytest.mark.e2e

GROUP_PRICE, PRICE = 3990, 5990


@pytest.fixture(scope="session")
def generated_client(tmp_path_factory):
    """`generate()` -> the client package made from the live document (once a session)."""
    made = {}

    def generate():
        if "client" not in made:
            made["client"] = _generate(tmp_path_factory.mktemp("openapi-client"))
        return made["client"]
    yield generate
    if "client" in made:
        sys.path.remove(str(made["client"].root))


def _generate(where):
    document = where / "openapi.json"
    document.write_bytes(requests.get(f"{GATEWAY}/openapi.json", timeout=20).content)
    config = where / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatting of the generated code: not needed
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document),
         "--output-path", str(where / "pintuan_client"), "--meta", "none",
         "--config", str(config)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Warning" not in done.stdout, done.stdout + done.stderr
    sys.path.insert(0, str(where))
    importlib.invalidate_caches()
    module = importlib.import_module

    def api(tag, operation):
        return module(f"pintuan_client.api.{tag}.{operation}")
    return SimpleNamespace(root=where, models=module("pintuan_client.models"), api=api,
                           client=module("pintuan_client.client"))


@pytest.fixture(scope="module")
def client(stack, generated_client):
    return generated_client()


@pytest.fixture(scope="module")
def team_run(client):
    """A team driven through the generated client only, as a mini-program would."""
    m, api = client.models, client.api
    anonymous = client.client.Client(base_url=GATEWAY, raise_on_unexpected_status=True)

    def logged_in(token):
        return client.client.AuthenticatedClient(base_url=GATEWAY, token=token,
                                                 raise_on_unexpected_status=True)

    staff = api("auth", "post_admin_v1_auth_login").sync(
        client=anonymous, body=m.StaffLogin(username="demo-merchant", password="demo-password"))
    assert isinstance(staff, m.StaffLoginResult), staff
    merchant = logged_in(staff.token)
    product = api("merchant", "post_admin_v1_products").sync(client=merchant, body=m.ProductInput(
        title=f"生成的客户端 阳光玫瑰葡萄 {time.time_ns()}",
        skus=[m.SkuInput(spec="2斤装", price=PRICE, stock=10)]))
    assert isinstance(product, m.Product), product
    published = api("merchant", "post_admin_v1_products_product_id_publish").sync(
        product_id=product.id, client=merchant)
    assert published.status == m.ProductStatus.PUBLISHED
    now = datetime.now(timezone.utc)
    campaign = api("merchant", "post_admin_v1_campaigns").sync(client=merchant, body=m.CampaignInput(
        product_id=product.id, starts_at=now, ends_at=now + timedelta(minutes=10), team_size=2,
        validity_seconds=600, per_user_limit=2,
        skus=[m.CampaignSkuInput(sku_id=product.skus[0].id, group_price=GROUP_PRICE)]))
    assert isinstance(campaign, m.Campaign) and campaign.status == m.CampaignStatus.ACTIVE

    def shopper(code):
        login = api("auth", "post_api_v1_auth_wechat_login").sync(
            client=anonymous, body=m.WechatLogin(code=f"wx-client-{code}-{time.time_ns()}"))
        assert isinstance(login, m.LoginResult), login
        return login, logged_in(login.token)

    (leader_login, leader), (joiner_login, joiner) = shopper("leader"), shopper("joiner")
    address = api("shop", "post_api_v1_addresses").sync(client=leader, body=m.AddressInput(
        recipient="张三", phone="13800138000", province="浙江省", city="杭州市",
        district="西湖区", detail="文三路 1 号"))
    assert isinstance(address, m.Address) and address.is_default is True
    detail = api("shop", "get_api_v1_products_product_id").sync(product_id=product.id,
                                                                 client=anonymous)
    opened = api("group_buy", "post_api_v1_teams").sync(client=leader, body=m.OpenTeam(
        campaign_id=detail.campaign.id, sku_id=detail.campaign.skus[0].sku_id, quantity=1))
    assert isinstance(opened, m.TeamOrderPlaced), opened
    team_id = opened.team.id
    pay(client, leader, opened.order.id)
    get_team = api("group_buy", "get_api_v1_teams_team_id")
    assert eventually(lambda: get_team.sync(team_id=team_id, client=anonymous).status
                      == m.TeamStatus.OPEN)
    open_page = api("shop", "get_api_v1_products_product_id").sync(product_id=product.id,
                                                                    client=anonymous)
    joined = api("group_buy", "post_api_v1_teams_team_id_join").sync(
        team_id=team_id, client=joiner, body=m.JoinTeam(sku_id=product.skus[0].id, quantity=1))
    assert isinstance(joined, m.TeamOrderPlaced), joined
    pay(client, joiner, joined.order.id)
    assert eventually(lambda: get_team.sync(team_id=team_id, client=anonymous).status
                      == m.TeamStatus.SUCCEEDED)
    return SimpleNamespace(
        models=m, api=api, anonymous=anonymous, merchant=merchant, leader=leader, joiner=joiner,
        merchant_id=staff.user.id, leader_id=leader_login.user.id,
        joiner_id=joiner_login.user.id, product=product, campaign=campaign, detail=detail,
        open_page=open_page, opened=opened, joined=joined, team_id=team_id,
        team=get_team.sync(team_id=team_id, client=anonymous))


def pay(client, shopper, order_id):
    m, api = client.models, client.api
    started = api("orders", "post_api_v1_orders_order_id_pay").sync(order_id=order_id,
                                                                    client=shopper)
    assert isinstance(started, m.PaymentStarted), started
    paid = api("payment", "post_sandbox_wechatpay_prepay_id_pay").sync(
        prepay_id=started.prepay_id, client=shopper,
        body=m.SandboxPay(result=m.SandboxPayResult.SUCCESS))
    assert paid.trade_state == "SUCCESS"


def test_a_generated_client_reads_the_product_page_as_typed_objects(team_run):
    m, detail = team_run.models, team_run.detail
    assert isinstance(detail, m.ProductDetail)
    assert isinstance(detail.campaign, m.ShopperCampaign)
    assert detail.campaign.status == m.ShopperCampaignStatus.ACTIVE
    assert detail.campaign.skus[0].group_price == GROUP_PRICE
    assert detail.campaign.team_size == 2 and isinstance(detail.campaign.ends_at, datetime)
    assert detail.skus[0].price == PRICE and detail.reviews.count == 0
    assert detail.joinable_teams == []
    [joinable] = team_run.open_page.joinable_teams
    assert isinstance(joinable, m.JoinableTeam)
    assert (joinable.id, joinable.seats_left) == (team_run.team_id, 1)


def test_a_generated_client_drives_a_team_to_success(team_run):
    m, team = team_run.models, team_run.team
    assert team_run.opened.team.status == m.TeamRefStatus.PENDING
    assert team_run.opened.order.amount == GROUP_PRICE
    assert isinstance(team_run.opened.order.address, m.OrderAddress)
    assert team_run.opened.order.address.city == "杭州市"
    assert isinstance(team, m.Team) and team.status == m.TeamStatus.SUCCEEDED
    assert (team.seats_left, team.member_count, team.team_size) == (0, 2, 2)
    assert [member.is_leader for member in team.members] == [True, False]
    assert all(isinstance(member.joined_at, datetime) for member in team.members)
    order = team_run.api("orders", "get_api_v1_orders_order_id").sync(
        order_id=team_run.joined.order.id, client=team_run.joiner)
    assert order.type_ == m.OrderType.TEAM and order.team_id == team.id  # `type` is a keyword
    assert [mate.id for mate in order.team_order_ids] == [team_run.opened.order.id]


def test_a_generated_client_reads_the_shared_page_with_its_campaign(team_run):
    m = team_run.models
    share = team_run.api("group_buy", "get_api_v1_teams_share_token").sync(
        token=team_run.team.share_token, client=team_run.anonymous)
    assert isinstance(share, m.ShareView) and share.view == m.ShareViewView.FULL
    assert isinstance(share.campaign, m.ShareCampaign)
    [sku] = share.campaign.skus
    assert (sku.group_price, sku.price, sku.spec) == (GROUP_PRICE, PRICE, "2斤装")
    assert share.share_url.endswith(share.share_path)


# --- what the services answer against what the schemas declare -------------------------

# Fields a service sends that the gateway's schema leaves out on purpose. Anything else a
# service sends must be declared, or marshmallow's dump drops it without a word.
WITHHELD = {
    "LoginResult.created": "whether the login made the account: the services' business",
    "UserSummary.avatar_url": "the login answer names who logged in; GET /api/v1/me has "
                              "the profile",
    "UserSummary.phone": "as avatar_url",
    "UserSummary.roles": "as avatar_url (the token carries them)",
    "UserSummary.invite_code": "as avatar_url",
    "Address.created_at": "not part of an address book entry's answer",
    "Address.updated_at": "as created_at",
    "ProductDetail.merchant_id": "shoppers are shown no user ids (a shop's id is its "
                                 "merchant's user id)",
    "Product.merchant_id": "the merchant's own id, which it knows",
    "Campaign.merchant_id": "as Product.merchant_id",
    "Campaign.created_at": "not shown in the back office (yet)",
    "Campaign.updated_at": "as created_at",
    "Team.order_ids": "for the services: the public team page shows no order ids",
    "AdminTeam.created_at": "not shown in 团单列表 (yet)",
    "AdminTeam.closed_at": "as created_at",
    "Order.is_leader": "not shown (yet): the shopper's order says nothing of who leads",
    "Order.cancel_reason": "internal codes (payment_timeout, team_failed, ...), not shown "
                           "(yet); the inbox tells the shopper why",
    "Order.refund_reason": "as cancel_reason",
    "Order.updated_at": "not shown (yet)",
    "AdminOrder.is_leader": "as Order.is_leader",
    "AdminOrder.cancel_reason": "as Order.cancel_reason",
    "AdminOrder.refund_reason": "as Order.cancel_reason",
    "AdminOrder.updated_at": "as Order.updated_at",
}


def undeclared(answer, schema):
    """`Schema.key` of every key in an answer that the schema does not declare, and of
    every key it declares required that the answer lacks, nested schemas included."""
    if isinstance(answer, list):
        return set().union(*(undeclared(item, schema) for item in answer))
    if not isinstance(answer, dict):
        return set()
    name = type(schema).__name__
    found = {f"{name}.{key} missing" for key, field in schema.fields.items()
             if field.required and key not in answer}
    for key, value in answer.items():
        field = schema.fields.get(key)
        inner = field.inner if isinstance(field, fields.List) else field
        if field is None:
            found.add(f"{name}.{key}")
        elif isinstance(inner, fields.Nested) and value is not None:
            found |= undeclared(value, inner.schema)
    return found


def route_of(name):
    """The route a GatewayService method declares, and its undecorated code."""
    method = getattr(GatewayService, name)
    served = {(entry.method, entry.url) for entry in method.nameko_entrypoints}
    return next(r for r in ROUTES if (r.method, r.path) in served), method.__wrapped__


@pytest.fixture(scope="module")
def raw_answer(team_run):
    """What a route hands to its response schema: the route's own code, run here with the
    services over RPC, before the schema shapes it."""
    with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri()}, timeout=20) as cluster:
        services = SimpleNamespace(**{name: getattr(cluster, name) for name in settings.SERVICES})

        def call(name, user=None, role=None, body=None, **path_values):
            route, code = route_of(name)
            if user is not None:
                path_values["user"] = {"user_id": user, "roles": [role]}
            if body is not None:
                path_values["body"] = body
            if route.query is not None:
                path_values["query"] = load(route.query, {})
            return route, code(services, None, **path_values)
        yield call


def main_answers(run):
    merchant, leader = run.merchant_id, run.leader_id
    return [
        ("wechat_login", {"body": {"code": f"wx-raw-{time.time_ns()}"}}),
        ("get_product", {"product_id": run.product.id}),
        ("get_team", {"team_id": run.team_id}),
        ("shared_team", {"token": run.team.share_token}),
        ("list_products", {}),
        ("home", {}),
        ("my_profile", {"user": leader, "role": "customer"}),
        ("list_addresses", {"user": leader, "role": "customer"}),
        ("get_order", {"user": leader, "role": "customer", "order_id": run.opened.order.id}),
        ("list_orders", {"user": leader, "role": "customer"}),
        ("list_notifications", {"user": leader, "role": "customer"}),
        ("admin_get_product", {"user": merchant, "role": "merchant",
                               "product_id": run.product.id}),
        ("admin_list_products", {"user": merchant, "role": "merchant"}),
        ("get_campaign", {"user": merchant, "role": "merchant",
                          "campaign_id": run.campaign.id}),
        ("list_campaigns", {"user": merchant, "role": "merchant"}),
        ("admin_list_teams", {"user": merchant, "role": "merchant"}),
        ("admin_get_order", {"user": merchant, "role": "merchant",
                             "order_id": run.joined.order.id}),
        ("admin_list_orders", {"user": merchant, "role": "merchant"}),
        ("list_notifications", {"user": merchant, "role": "merchant"}),
        ("list_categories", {}),
        ("ledger_check", {"user": 1, "role": "ops"}),
        ("list_merchants", {"user": 1, "role": "ops"}),
    ]


def test_no_field_a_service_answers_is_dropped_by_the_schemas(team_run, raw_answer):
    found = {}
    for name, arguments in main_answers(team_run):
        route, answer = raw_answer(name, **arguments)
        for field in undeclared(answer, route.response):
            found.setdefault(field, name)
    assert {field: name for field, name in found.items() if field not in WITHHELD} == {}
    assert set(WITHHELD) - set(found) == set()  # each withheld field is one a service sends


def test_the_check_itself_sees_a_dropped_field_and_a_missing_one():
    route, _ = route_of("get_team")
    team = {"id": 1, "status": "open", "members": [{"is_leader": True, "joined_at": None,
                                                    "seat": 3}], "order_ids": [], "new": 1}
    assert undeclared(team, route.response) >= {"Team.new", "TeamMember.seat",
                                                "Team.order_ids", "Team.share_token missing"}
