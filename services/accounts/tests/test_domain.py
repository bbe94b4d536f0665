"""Pure rules of accounts: no broker, no database."""
from datetime import datetime, timedelta, timezone

import pytest

from plumbing.errors import BadRequest, Conflict, Forbidden, TooManyRequests
from services.accounts import domain, schemas
from services.accounts.domain import AddressRef

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)

VALID_ADDRESS = {"recipient": "张三", "phone": "13800138000", "province": "浙江省",
                 "city": "杭州市", "district": "西湖区", "detail": "文三路 100 号 2 单元 301"}


# --- default address ----------------------------------------------------------

def test_the_first_address_is_the_default_even_when_not_asked():
    assert domain.new_address_is_default(0, None) is True
    assert domain.new_address_is_default(0, False) is True


def test_a_later_address_is_the_default_only_when_asked():
    assert domain.new_address_is_default(3, None) is False
    assert domain.new_address_is_default(3, False) is False
    assert domain.new_address_is_default(3, True) is True


def test_the_default_cannot_be_unset_only_replaced():
    with pytest.raises(Conflict) as caught:
        domain.check_default_kept(is_default_now=True, requested=False)
    assert caught.value.code == "default_address_required"
    domain.check_default_kept(is_default_now=True, requested=None)
    domain.check_default_kept(is_default_now=True, requested=True)
    domain.check_default_kept(is_default_now=False, requested=False)


def test_deleting_the_default_promotes_the_most_recently_added():
    remaining = [AddressRef(1, T0, False), AddressRef(7, T0 + timedelta(hours=2), False),
                 AddressRef(3, T0 + timedelta(hours=1), False)]
    assert domain.successor_default(remaining) == 7


def test_addresses_added_in_the_same_instant_are_ordered_by_id():
    assert domain.successor_default([AddressRef(4, T0, False), AddressRef(9, T0, False)]) == 9


def test_no_successor_when_nothing_remains():
    assert domain.successor_default([]) is None


def test_at_most_twenty_addresses():
    domain.check_room_for_address(19)
    with pytest.raises(Conflict) as caught:
        domain.check_room_for_address(20)
    assert caught.value.code == "address_limit_reached"


# --- roles ----------------------------------------------------------------------

def test_roles_round_trip_in_canonical_order_without_duplicates():
    stored = domain.format_roles(["ops", "merchant", "ops"])
    assert stored == "merchant,ops"
    assert domain.parse_roles(stored) == ["merchant", "ops"]


def test_unknown_roles_are_refused():
    with pytest.raises(ValueError):
        domain.format_roles(["admin"])


def test_only_merchants_and_ops_use_the_back_office():
    domain.check_back_office_access(["merchant"])
    domain.check_back_office_access(["ops"])
    with pytest.raises(Forbidden) as caught:
        domain.check_back_office_access(["customer"])
    assert caught.value.code == "not_staff"


# --- new users ----------------------------------------------------------------

def test_default_nickname_is_wechat_user_and_four_digits_stable_per_openid():
    nickname = domain.default_nickname("sbx_abc")
    assert nickname.startswith("微信用户") and len(nickname) == 8
    assert nickname[4:].isdigit()
    assert domain.default_nickname("sbx_abc") == nickname
    others = {domain.default_nickname(f"sbx_{n}") for n in range(50)}
    assert len(others) > 40  # the digits really depend on the openid


def test_invite_codes_are_short_and_unambiguous():
    codes = {domain.new_invite_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == domain.INVITE_CODE_LENGTH
        assert not set(code) & set("01ILO")


def test_invite_code_comes_from_the_given_randomness():
    assert domain.new_invite_code(randbelow=lambda n: 0) == "22222222"
    assert domain.new_invite_code(randbelow=lambda n: n - 1) == "ZZZZZZZZ"


@pytest.mark.parametrize("typed, canonical", [
    ("abcd2345", "ABCD2345"), ("  ABCD2345 ", "ABCD2345"),
    ("ABCD234", None), ("ABCD23450", None), ("ABCD2340", None), ("", None), (None, None),
    (12345678, None),
])
def test_typed_invite_codes_are_normalised_or_ignored(typed, canonical):
    assert domain.normalize_invite_code(typed) == canonical


# --- validation -----------------------------------------------------------------

@pytest.mark.parametrize("phone, ok", [
    ("13800138000", True), ("19912345678", True), ("12800138000", False),
    ("1380013800", False), ("138001380000", False), ("+8613800138000", False),
    ("1380013800a", False), (13800138000, False), ("１３８００１３８０００", False),
    ("138００138０００", False), ("13800138000\n", False),
])
def test_mainland_mobile_numbers(phone, ok):
    assert domain.is_mainland_mobile(phone) is ok


@pytest.mark.parametrize("code, ok", [
    ("081Abc2w3", True), ("x", True), ("a" * 128, True), ("", False), ("a" * 129, False),
    ("has space", False), ("tab\there", False), ("nul\x00", False), (None, False), (123, False),
])
def test_wechat_codes(code, ok):
    assert domain.is_valid_wechat_code(code) is ok


def test_a_complete_address_loads_trimmed():
    user_id, fields = schemas.load_new_address(5, {**VALID_ADDRESS, "recipient": "  张三 "})
    assert user_id == 5
    assert fields["recipient"] == "张三"
    assert "is_default" not in fields


def test_a_new_address_lists_every_missing_or_wrong_field():
    with pytest.raises(BadRequest) as caught:
        schemas.load_new_address(5, {"recipient": "   ", "phone": "110", "detail": "x" * 201})
    details = caught.value.details
    assert caught.value.code == "validation_failed"
    assert set(details) == {"recipient", "phone", "province", "city", "district", "detail"}


def test_address_fields_refuse_unknown_fields_and_loose_booleans():
    with pytest.raises(BadRequest) as caught:
        schemas.load_new_address(5, {**VALID_ADDRESS, "is_default": 1, "user_id": 9})
    assert set(caught.value.details) == {"is_default", "user_id"}


def test_address_changes_may_be_partial():
    _, _, changes = schemas.load_address_changes(5, 6, {"city": "宁波市"})
    assert changes == {"city": "宁波市"}


@pytest.mark.parametrize("user_id", [0, -1, True, "5", 2**31, None, 1.5])
def test_ids_must_be_positive_integers(user_id):
    with pytest.raises(BadRequest) as caught:
        schemas.load(schemas.UserRef(), {"user_id": user_id})
    assert "user_id" in caught.value.details


def test_a_data_argument_that_is_not_an_object_is_named():
    with pytest.raises(BadRequest) as caught:
        schemas.load_new_address(5, ["not", "a", "dict"])
    assert caught.value.details == {"data": ["Must be an object."]}


@pytest.mark.parametrize("changes, field", [
    ({"nickname": ""}, "nickname"), ({"nickname": "x" * 33}, "nickname"),
    ({"nickname": "a\nb"}, "nickname"), ({"avatar_url": "ftp://x.example.com/a.png"}, "avatar_url"),
    ({"avatar_url": "https://x.example.com/" + "a" * 500}, "avatar_url"),
    ({"phone": "23800138000"}, "phone"), ({"roles": ["ops"]}, "roles"),
])
def test_profile_changes_are_checked(changes, field):
    with pytest.raises(BadRequest) as caught:
        schemas.load_profile_changes(1, changes)
    assert any(key.split(".")[0] == field for key in caught.value.details)


def test_profile_changes_accept_each_field_and_clearing():
    _, changes = schemas.load_profile_changes(1, {
        "nickname": " 小明 ", "avatar_url": "https://img.example.com/a.png", "phone": None})
    assert changes == {"nickname": "小明", "avatar_url": "https://img.example.com/a.png",
                       "phone": None}


@pytest.mark.parametrize("data, field", [
    ({"username": "ab", "password": "long enough", "roles": ["merchant"]}, "username"),
    ({"username": "shop-1", "password": "short", "roles": ["merchant"]}, "password"),
    ({"username": "shop-1", "password": "long enough", "roles": []}, "roles"),
    ({"username": "shop-1", "password": "long enough", "roles": ["customer"]}, "roles"),
])
def test_staff_users_are_checked(data, field):
    with pytest.raises(BadRequest) as caught:
        schemas.load(schemas.StaffUser(), data)
    assert any(key.split(".")[0] == field for key in caught.value.details)


# --- staff login lockout ------------------------------------------------------------

FIVE_IN_15_MIN = domain.Threshold(5, 900)
LOCKOUT = 900


def fail(times, failures=None, start=T0, every=timedelta(seconds=10)):
    failures = failures or domain.Failures()
    for n in range(times):
        failures = domain.after_failure(failures, FIVE_IN_15_MIN, LOCKOUT, start + n * every)
    return failures


def test_failures_below_the_threshold_only_count():
    failures = fail(4)
    assert failures == domain.Failures(4, T0, None)
    domain.check_not_locked([failures], T0 + timedelta(minutes=1))


def test_reaching_the_threshold_locks_out_with_the_seconds_left():
    failures = fail(5)
    assert failures.locked_until == T0 + timedelta(seconds=40 + LOCKOUT)
    with pytest.raises(TooManyRequests) as caught:
        domain.check_not_locked([domain.Failures(), failures], T0 + timedelta(seconds=340))
    assert caught.value.status == 429 and caught.value.code == "login_locked"
    assert caught.value.details == {"retry_after": 600}
    assert caught.value.headers() == {"Retry-After": "600"}


def test_the_longest_lockout_of_a_login_is_the_one_it_waits_for():
    now = T0
    short = domain.Failures(locked_until=now + timedelta(seconds=30))
    long = domain.Failures(locked_until=now + timedelta(seconds=299.2))
    with pytest.raises(TooManyRequests) as caught:
        domain.check_not_locked([short, long], now)
    assert caught.value.details["retry_after"] == 300


def test_a_lockout_ends_at_its_time():
    failures = fail(5)
    domain.check_not_locked([failures], failures.locked_until)


def test_failures_spread_wider_than_the_window_never_lock_out():
    failures = fail(12, every=timedelta(seconds=300))  # one every 5 min: 3 per window at most
    assert failures.locked_until is None
    assert failures.count == 3


def test_the_window_starts_at_the_first_failure_and_restarts_after_it():
    failures = fail(4)
    later = domain.after_failure(failures, FIVE_IN_15_MIN, LOCKOUT, T0 + timedelta(seconds=900))
    assert later == domain.Failures(1, T0 + timedelta(seconds=900), None)


def test_a_right_password_clears_only_the_pairs_count():
    failures = fail(4)
    assert domain.after_success(domain.PAIR, failures) == domain.Failures()
    assert domain.after_success(domain.USERNAME, failures) == failures
    assert domain.after_success(domain.ADDRESS, failures) == failures


def test_a_login_is_counted_per_pair_username_and_address():
    assert domain.lockout_subjects("demo-merchant", "198.51.100.7") == {
        domain.PAIR: "demo-merchant 198.51.100.7", domain.USERNAME: "demo-merchant",
        domain.ADDRESS: "198.51.100.7"}
    assert domain.lockout_subjects("demo-merchant", None) == {domain.USERNAME: "demo-merchant"}


def test_thresholds_read_as_failures_per_window():
    assert domain.Threshold.parse("20/900") == domain.Threshold(20, 900)
    for wrong in ("0/900", "5/0", "five/900", "5"):
        with pytest.raises(ValueError):
            domain.Threshold.parse(wrong)


def test_counts_whose_windows_are_over_can_go():
    thresholds = [domain.Threshold(5, 900), domain.Threshold(20, 3600)]
    assert domain.windows_over_before(thresholds, T0) == T0 - timedelta(seconds=3600)
