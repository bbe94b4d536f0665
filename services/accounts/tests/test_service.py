"""The accounts service in a real container, on real RabbitMQ and PostgreSQL."""
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from plumbing import tokens
from plumbing.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized

HOME = {"recipient": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
        "district": "西湖区", "detail": "文三路 100 号"}
OFFICE = {**HOME, "recipient": "张三 (公司)", "detail": "学院路 77 号 5 楼"}
PARENTS = {**HOME, "recipient": "张父", "city": "宁波市", "district": "海曙区", "detail": "中山路 1 号"}


@pytest.fixture
def accounts(start_service, rpc):
    start_service("accounts")
    return rpc.accounts


@pytest.fixture
def accounts_db(databases):
    engine = sa.create_engine(databases["accounts"])
    yield engine
    engine.dispose()


def rows(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).mappings().all()


def registered_events(engine):
    found = rows(engine, "SELECT payload FROM outbox WHERE event_type = 'user_registered'")
    return [json.loads(row["payload"])["data"] for row in found]


def defaults_of(engine, user_id):
    return [row["id"] for row in rows(
        engine, "SELECT id FROM addresses WHERE user_id = :u AND is_default", u=user_id)]


def shopper(accounts, code):
    return accounts.wechat_login(code)["user"]["id"]


# --- WeChat login ------------------------------------------------------------------

def test_first_login_creates_a_customer_and_later_logins_find_the_same_one(accounts, accounts_db):
    first = accounts.wechat_login("code-alice")
    again = accounts.wechat_login("code-alice")
    assert first["created"] is True and again["created"] is False
    assert again["user"] == first["user"]
    user = first["user"]
    assert user["roles"] == ["customer"]
    assert user["nickname"].startswith("微信用户") and len(user["nickname"]) == 8
    assert len(user["invite_code"]) == 8
    assert rows(accounts_db, "SELECT count(*) AS n FROM users")[0]["n"] == 1


def test_different_codes_are_different_shoppers(accounts):
    assert shopper(accounts, "code-alice") != shopper(accounts, "code-bob")


def test_the_login_token_verifies_and_carries_the_roles(accounts):
    result = accounts.wechat_login("code-alice")
    assert tokens.verify(result["token"]) == {"user_id": result["user"]["id"],
                                              "roles": ["customer"]}


def test_user_registered_is_in_the_outbox_exactly_once(accounts, accounts_db):
    user_id = shopper(accounts, "code-alice")
    accounts.wechat_login("code-alice")
    accounts.wechat_login("code-alice")
    assert registered_events(accounts_db) == [{"user_id": user_id, "invited_by": None}]


def test_an_invite_code_links_the_new_user_to_the_inviter(accounts, accounts_db):
    alice = accounts.wechat_login("code-alice")["user"]
    bob = accounts.wechat_login("code-bob", alice["invite_code"].lower())["user"]
    assert {"user_id": bob["id"], "invited_by": alice["id"]} in registered_events(accounts_db)
    stored = rows(accounts_db, "SELECT invited_by FROM users WHERE id = :u", u=bob["id"])
    assert stored[0]["invited_by"] == alice["id"]


def test_an_unknown_invite_code_is_ignored_at_signup(accounts, accounts_db):
    result = accounts.wechat_login("code-carol", invite_code="NOSUCH22")
    assert result["created"] is True
    assert registered_events(accounts_db) == [{"user_id": result["user"]["id"], "invited_by": None}]


def test_an_invite_code_does_not_change_an_existing_user(accounts, accounts_db):
    alice = accounts.wechat_login("code-alice")["user"]
    bob = accounts.wechat_login("code-bob")["user"]
    accounts.wechat_login("code-bob", alice["invite_code"])
    stored = rows(accounts_db, "SELECT invited_by FROM users WHERE id = :u", u=bob["id"])
    assert stored[0]["invited_by"] is None


def test_simultaneous_first_logins_create_one_user(rpc, start_service, accounts_db):
    start_service("accounts")
    replies = [rpc.accounts.wechat_login.call_async("code-dave") for _ in range(6)]
    results = [reply.result() for reply in replies]
    assert len({result["user"]["id"] for result in results}) == 1
    assert [result["created"] for result in results].count(True) == 1
    assert len(registered_events(accounts_db)) == 1


@pytest.mark.parametrize("code", ["", "x" * 129, "two words"])
def test_a_malformed_code_is_refused_and_creates_nobody(accounts, accounts_db, code):
    with pytest.raises(BadRequest) as caught:
        accounts.wechat_login(code)
    assert caught.value.code == "invalid_wechat_code"
    assert rows(accounts_db, "SELECT count(*) AS n FROM users")[0]["n"] == 0
    assert registered_events(accounts_db) == []


def test_a_code_of_the_wrong_type_is_a_validation_error(accounts):
    with pytest.raises(BadRequest) as caught:
        accounts.wechat_login(12345)
    assert caught.value.code == "validation_failed"
    assert "code" in caught.value.details


# --- staff login ---------------------------------------------------------------------

def test_a_merchant_logs_in_with_the_right_password(accounts):
    created = accounts.create_staff_user("shop-owner", "correct horse", ["merchant"])
    result = accounts.merchant_login("shop-owner", "correct horse")
    assert result["user"] == {**created, "shop_name": None}
    assert tokens.verify(result["token"]) == {"user_id": created["id"], "roles": ["merchant"]}


def test_wrong_password_and_unknown_user_get_the_same_answer(accounts):
    accounts.create_staff_user("shop-owner", "correct horse", ["merchant"])
    with pytest.raises(Unauthorized) as wrong_password:
        accounts.merchant_login("shop-owner", "battery staple")
    with pytest.raises(Unauthorized) as unknown_user:
        accounts.merchant_login("nobody-here", "correct horse")
    assert wrong_password.value.code == unknown_user.value.code == "invalid_credentials"
    assert wrong_password.value.message == unknown_user.value.message


def test_the_password_is_stored_hashed(accounts, accounts_db):
    accounts.create_staff_user("shop-owner", "correct horse", ["merchant"])
    stored = rows(accounts_db, "SELECT password_hash FROM users")[0]["password_hash"]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


def test_only_merchants_and_ops_may_use_the_merchant_login(accounts, accounts_db):
    accounts.create_staff_user("ex-staff", "correct horse", ["merchant"])
    with accounts_db.begin() as conn:
        conn.execute(sa.text("UPDATE users SET roles = 'customer' WHERE username = 'ex-staff'"))
    with pytest.raises(Forbidden) as caught:
        accounts.merchant_login("ex-staff", "correct horse")
    assert caught.value.code == "not_staff"


def test_a_username_is_taken_once(accounts):
    accounts.create_staff_user("shop-owner", "correct horse", ["merchant"])
    with pytest.raises(Conflict) as caught:
        accounts.create_staff_user("shop-owner", "other password", ["ops"])
    assert caught.value.code == "username_taken"


def test_a_short_staff_password_is_refused_and_nothing_is_written(accounts, accounts_db):
    with pytest.raises(BadRequest) as caught:
        accounts.create_staff_user("shop-owner", "short", ["merchant"])
    assert "password" in caught.value.details
    assert rows(accounts_db, "SELECT count(*) AS n FROM users")[0]["n"] == 0


# --- merchants and their shops ---------------------------------------------------------

def test_ops_opens_a_merchant_account_with_its_shop(accounts):
    created = accounts.create_merchant(1, "tea-house", "correct horse", " 西湖茶庄 ")
    assert created["username"] == "tea-house" and created["shop_name"] == "西湖茶庄"
    login = accounts.merchant_login("tea-house", "correct horse")
    assert tokens.verify(login["token"]) == {"user_id": created["id"], "roles": ["merchant"]}
    assert login["user"]["shop_name"] == "西湖茶庄"
    listed = accounts.list_merchants()
    assert listed["total"] == 1 and listed["items"][0]["id"] == created["id"]


def test_a_shop_name_and_a_username_are_taken_once_and_a_refusal_writes_nothing(
        accounts, accounts_db):
    accounts.create_merchant(1, "tea-house", "correct horse", "西湖茶庄")
    with pytest.raises(Conflict) as same_shop:
        accounts.create_merchant(1, "tea-house-2", "correct horse", "西湖茶庄")
    with pytest.raises(Conflict) as same_user:
        accounts.create_merchant(1, "tea-house", "correct horse", "另一家店")
    assert (same_shop.value.code, same_user.value.code) == ("shop_name_taken", "username_taken")
    assert rows(accounts_db, "SELECT count(*) AS n FROM users")[0]["n"] == 1
    assert rows(accounts_db, "SELECT count(*) AS n FROM shops")[0]["n"] == 1


def test_a_merchant_needs_a_real_username_password_and_shop_name(accounts):
    with pytest.raises(BadRequest) as caught:
        accounts.create_merchant(1, "x", "short", "")
    assert {"username", "password", "shop_name"} <= set(caught.value.details)


# --- staff login lockout ---------------------------------------------------------------

OWNER, RIGHT, WRONG = "shop-owner", "correct horse", "battery staple"
HOME_IP, OTHER_IP = "198.51.100.7", "203.0.113.9"


@pytest.fixture
def lockouts(monkeypatch):
    """Small thresholds, so a test needs few (quarter-second) password checks."""
    def set_thresholds(pair="3/900", username="-", address="-", seconds="600"):
        monkeypatch.setenv("PINTUAN_STAFF_LOCKOUT_PAIR", pair)
        monkeypatch.setenv("PINTUAN_STAFF_LOCKOUT_USERNAME", username)
        monkeypatch.setenv("PINTUAN_STAFF_LOCKOUT_ADDRESS", address)
        monkeypatch.setenv("PINTUAN_STAFF_LOCKOUT_SECONDS", seconds)
    return set_thresholds


def fail_logins(accounts, times, username=OWNER, address=HOME_IP):
    for _ in range(times):
        with pytest.raises(Unauthorized):
            accounts.merchant_login(username, WRONG, address=address)


def assert_locked(accounts, username=OWNER, address=HOME_IP, password=RIGHT):
    with pytest.raises(TooManyRequests) as caught:
        accounts.merchant_login(username, password, address=address)
    assert caught.value.code == "login_locked"
    return caught.value.details["retry_after"]


def test_failed_logins_lock_the_address_out_even_for_the_right_password(accounts, lockouts):
    lockouts(pair="3/900", seconds="600")
    accounts.create_staff_user(OWNER, RIGHT, ["merchant"])
    fail_logins(accounts, 3)
    assert 595 <= assert_locked(accounts) <= 600
    # the owner elsewhere is not locked out by someone guessing from HOME_IP
    assert accounts.merchant_login(OWNER, RIGHT, address=OTHER_IP)["user"]["id"]


def test_the_lockout_ends_after_its_time(accounts, lockouts):
    lockouts(pair="3/900", seconds="600")
    accounts.create_staff_user(OWNER, RIGHT, ["merchant"])
    with time_machine.travel(datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)):
        fail_logins(accounts, 3)
    with time_machine.travel(datetime(2026, 5, 1, 9, 9, 50, tzinfo=timezone.utc)):
        assert 1 <= assert_locked(accounts) <= 20
    with time_machine.travel(datetime(2026, 5, 1, 9, 11, tzinfo=timezone.utc)):
        assert accounts.merchant_login(OWNER, RIGHT, address=HOME_IP)["user"]["id"]


def test_a_right_password_clears_the_typos_before_it(accounts, lockouts):
    lockouts(pair="3/900")
    accounts.create_staff_user(OWNER, RIGHT, ["merchant"])
    fail_logins(accounts, 2)
    accounts.merchant_login(OWNER, RIGHT, address=HOME_IP)
    fail_logins(accounts, 2)
    assert accounts.merchant_login(OWNER, RIGHT, address=HOME_IP)["user"]["id"]


def test_a_guess_spread_over_many_addresses_locks_the_username(accounts, lockouts):
    lockouts(pair="3/900", username="4/900")
    accounts.create_staff_user(OWNER, RIGHT, ["merchant"])
    for n in range(4):
        fail_logins(accounts, 1, address=f"192.0.2.{n + 1}")
    assert_locked(accounts, address="192.0.2.200")  # a fresh address, the right password
    assert_locked(accounts, address=None)  # and not through the gateway either


def test_one_address_trying_many_usernames_is_locked_out(accounts, lockouts):
    lockouts(pair="3/900", address="4/900")
    accounts.create_staff_user(OWNER, RIGHT, ["merchant"])
    for name in ("admin", "root", "ops-1", "merchant"):
        fail_logins(accounts, 1, username=name)
    assert_locked(accounts)
    assert accounts.merchant_login(OWNER, RIGHT, address=OTHER_IP)["user"]["id"]


def test_an_unknown_username_is_locked_out_like_a_real_one(accounts, lockouts):
    """Otherwise the lockout would tell a guesser which usernames exist."""
    lockouts(pair="3/900")
    fail_logins(accounts, 3, username="no-such-user")
    assert_locked(accounts, username="no-such-user")


def test_simultaneous_failures_are_each_counted(rpc, start_service, lockouts, accounts_db):
    lockouts(pair="100/900", username="100/900", address="100/900")
    start_service("accounts")
    rpc.accounts.create_staff_user(OWNER, RIGHT, ["merchant"])
    replies = [rpc.accounts.merchant_login.call_async(OWNER, WRONG, address=HOME_IP)
               for _ in range(6)]
    for reply in replies:
        with pytest.raises(Unauthorized):
            reply.result()
    counted = {row["scope"]: row["count"] for row in rows(
        accounts_db, "SELECT scope, count FROM login_failures")}
    assert counted == {"pair": 6, "username": 6, "address": 6}


# --- demo accounts ---------------------------------------------------------------------

def test_demo_accounts_are_created_once_and_can_log_in(accounts):
    assert sorted(accounts.ensure_demo_accounts()["created"]) == ["demo-merchant", "demo-ops"]
    assert accounts.ensure_demo_accounts() == {"created": []}
    merchant = accounts.merchant_login("demo-merchant", "demo-password")
    ops = accounts.merchant_login("demo-ops", "demo-password")
    assert merchant["user"]["shop_name"] == "拼团演示店"
    assert tokens.verify(merchant["token"])["roles"] == ["merchant"]
    assert tokens.verify(ops["token"])["roles"] == ["ops"]


def test_the_demo_shop_creates_demo_accounts_at_start(monkeypatch, start_service, accounts_db):
    monkeypatch.setenv("PINTUAN_DEMO_SHOP", "1")
    start_service("accounts")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = rows(accounts_db, "SELECT username, roles FROM users ORDER BY username")
        if len(found) == 2:
            break
        time.sleep(0.1)
    assert [dict(row) for row in found] == [{"username": "demo-merchant", "roles": "merchant"},
                                            {"username": "demo-ops", "roles": "ops"}]


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("PINTUAN_ENV", "production")
    monkeypatch.setenv("PINTUAN_WECHAT_APPID", "wx-test")  # production needs real WeChat set up
    monkeypatch.setenv("PINTUAN_WECHAT_SECRET", "not-called-in-tests")
    monkeypatch.setenv("PINTUAN_DEMO_SHOP", "1")
    return monkeypatch


def test_production_never_gets_demo_accounts(production, start_service, rpc, accounts_db):
    start_service("accounts")
    with pytest.raises(Forbidden) as caught:
        rpc.accounts.ensure_demo_accounts()
    assert caught.value.code == "demo_accounts_forbidden"
    time.sleep(0.5)  # long enough for the start-up hook, had it run, to write
    assert rows(accounts_db, "SELECT count(*) AS n FROM users")[0]["n"] == 0


def test_production_refuses_to_start_with_sandbox_wechat(production, container_factory,
                                                         service_config, databases):
    from plumbing import settings
    production.setenv("PINTUAN_WECHAT_MODE", "sandbox")
    container = container_factory(settings.service_class("accounts"), service_config("accounts"))
    with pytest.raises(RuntimeError, match="sandbox is refused in production"):
        container.start()


# --- profile ----------------------------------------------------------------------------

def test_get_user_and_profile_changes(accounts):
    user_id = shopper(accounts, "code-alice")
    changed = accounts.update_profile(user_id, {"nickname": "小明", "phone": "13912345678",
                                                "avatar_url": "https://img.example.com/a.png"})
    assert accounts.get_user(user_id) == changed
    assert (changed["nickname"], changed["phone"], changed["avatar_url"]) == (
        "小明", "13912345678", "https://img.example.com/a.png")
    assert accounts.update_profile(user_id, {"phone": None})["phone"] is None
    assert accounts.get_user(user_id)["nickname"] == "小明"


def test_bad_profile_changes_are_refused_and_change_nothing(accounts):
    user_id = shopper(accounts, "code-alice")
    before = accounts.get_user(user_id)
    with pytest.raises(BadRequest) as caught:
        accounts.update_profile(user_id, {"nickname": "小明", "phone": "12345",
                                          "roles": ["ops"]})
    assert set(caught.value.details) == {"phone", "roles"}
    assert accounts.get_user(user_id) == before


def test_an_unknown_user_is_not_found(accounts):
    with pytest.raises(NotFound) as caught:
        accounts.get_user(999)
    assert caught.value.code == "user_not_found"
    with pytest.raises(NotFound):
        accounts.update_profile(999, {"nickname": "x"})


# --- addresses ----------------------------------------------------------------------------

def test_the_first_address_is_the_default_and_later_ones_are_not(accounts, accounts_db):
    user_id = shopper(accounts, "code-alice")
    home = accounts.create_address(user_id, {**HOME, "is_default": False})
    office = accounts.create_address(user_id, OFFICE)
    assert (home["is_default"], office["is_default"]) == (True, False)
    assert {k: home[k] for k in HOME} == HOME
    assert [a["id"] for a in accounts.list_addresses(user_id)] == [home["id"], office["id"]]
    assert defaults_of(accounts_db, user_id) == [home["id"]]


def test_choosing_a_default_unsets_the_old_one(accounts, accounts_db):
    user_id = shopper(accounts, "code-alice")
    home = accounts.create_address(user_id, HOME)
    office = accounts.create_address(user_id, OFFICE)
    assert accounts.set_default_address(user_id, office["id"])["is_default"] is True
    assert defaults_of(accounts_db, user_id) == [office["id"]]
    parents = accounts.create_address(user_id, {**PARENTS, "is_default": True})
    assert defaults_of(accounts_db, user_id) == [parents["id"]]
    accounts.update_address(user_id, home["id"], {"is_default": True})
    assert defaults_of(accounts_db, user_id) == [home["id"]]
    assert accounts.list_addresses(user_id)[0]["id"] == home["id"]


def test_simultaneous_first_addresses_leave_exactly_one_default(rpc, start_service,
                                                                accounts_db):
    start_service("accounts")
    user_id = shopper(rpc.accounts, "code-alice")
    replies = [rpc.accounts.create_address.call_async(user_id, {**HOME, "detail": f"{n} 号"})
               for n in range(6)]
    created = [reply.result() for reply in replies]
    assert [a["is_default"] for a in created].count(True) == 1
    assert len(defaults_of(accounts_db, user_id)) == 1


def test_the_default_cannot_be_unset_directly(accounts, accounts_db):
    user_id = shopper(accounts, "code-alice")
    home = accounts.create_address(user_id, HOME)
    with pytest.raises(Conflict) as caught:
        accounts.update_address(user_id, home["id"], {"is_default": False})
    assert caught.value.code == "default_address_required"
    assert defaults_of(accounts_db, user_id) == [home["id"]]


def test_update_changes_only_the_given_fields_and_the_update_time(accounts):
    user_id = shopper(accounts, "code-alice")
    with time_machine.travel(datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc), tick=False):
        home = accounts.create_address(user_id, HOME)
    with time_machine.travel(datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc), tick=False):
        updated = accounts.update_address(user_id, home["id"], {"detail": " 文三路 200 号 "})
    assert updated == {**home, "detail": "文三路 200 号", "updated_at": "2026-03-02T09:30:00Z"}
    assert home["created_at"] == updated["created_at"] == "2026-03-01T08:00:00Z"


def test_deleting_the_default_promotes_the_most_recently_added(accounts, accounts_db):
    user_id = shopper(accounts, "code-alice")
    start = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
    with time_machine.travel(start):
        home = accounts.create_address(user_id, HOME)
    with time_machine.travel(start + timedelta(hours=2)):
        newest = accounts.create_address(user_id, OFFICE)
    with time_machine.travel(start + timedelta(hours=1)):  # a higher id, yet added earlier
        accounts.create_address(user_id, PARENTS)
    result = accounts.delete_address(user_id, home["id"])
    assert result == {"deleted": home["id"], "default_address_id": newest["id"]}
    assert defaults_of(accounts_db, user_id) == [newest["id"]]


def test_deleting_another_address_keeps_the_default_and_the_last_leaves_none(accounts,
                                                                            accounts_db):
    user_id = shopper(accounts, "code-alice")
    home = accounts.create_address(user_id, HOME)
    office = accounts.create_address(user_id, OFFICE)
    assert accounts.delete_address(user_id, office["id"])["default_address_id"] == home["id"]
    assert accounts.delete_address(user_id, home["id"])["default_address_id"] is None
    assert accounts.list_addresses(user_id) == []


def test_another_users_address_is_not_found(accounts):
    alice = shopper(accounts, "code-alice")
    bob = shopper(accounts, "code-bob")
    home = accounts.create_address(alice, HOME)
    attempts = [lambda: accounts.update_address(bob, home["id"], {"city": "上海市"}),
                lambda: accounts.delete_address(bob, home["id"]),
                lambda: accounts.set_default_address(bob, home["id"])]
    for attempt in attempts:
        with pytest.raises(NotFound) as caught:
            attempt()
        assert caught.value.code == "address_not_found"
    assert accounts.list_addresses(alice) == [home]
    assert accounts.list_addresses(bob) == []


def test_at_most_twenty_addresses(accounts):
    user_id = shopper(accounts, "code-alice")
    for number in range(20):
        accounts.create_address(user_id, {**HOME, "detail": f"文三路 {number} 号"})
    with pytest.raises(Conflict) as caught:
        accounts.create_address(user_id, HOME)
    assert caught.value.code == "address_limit_reached"
    assert len(accounts.list_addresses(user_id)) == 20


def test_a_bad_address_is_refused_with_details_and_nothing_is_written(accounts, accounts_db):
    user_id = shopper(accounts, "code-alice")
    with pytest.raises(BadRequest) as caught:
        accounts.create_address(user_id, {**HOME, "phone": "1380013800", "city": "",
                                          "detail": "x" * 201})
    assert caught.value.code == "validation_failed"
    assert set(caught.value.details) == {"phone", "city", "detail"}
    assert rows(accounts_db, "SELECT count(*) AS n FROM addresses")[0]["n"] == 0


def test_a_bad_address_change_changes_nothing(accounts):
    user_id = shopper(accounts, "code-alice")
    home = accounts.create_address(user_id, HOME)
    with pytest.raises(BadRequest) as caught:
        accounts.update_address(user_id, home["id"], {"recipient": "李四", "province": None})
    assert set(caught.value.details) == {"province"}
    assert accounts.list_addresses(user_id) == [home]


def test_addresses_of_an_unknown_user_are_not_found(accounts):
    with pytest.raises(NotFound) as caught:
        accounts.create_address(999, HOME)
    assert caught.value.code == "user_not_found"
    with pytest.raises(NotFound):
        accounts.list_addresses(999)
