"""The accounts service: entrypoints only; rules live in domain.py, queries in store.py.

Users log in (shoppers with WeChat, staff with a password) and get a token signed
here and checked at the gateway; they keep a profile and delivery addresses.
"""
from contract import events
from plumbing import clock, paging, tokens
from plumbing.db import Database
from plumbing.entrypoints import rpc, timer
from plumbing.errors import Unauthorized
from plumbing.probes import ServiceBase
from services.accounts import config, demo, domain, passwords, schemas, store
from services.accounts.wechat import WeChat


def _login_result(user):
    roles = domain.parse_roles(user.roles)
    return {"token": tokens.sign(user.id, roles), "user": store.user_dict(user)}


class AccountsService(ServiceBase):
    name = "accounts"
    db = Database()
    wechat = WeChat()
    demo_shop = demo.DemoShop()

    # --- login --------------------------------------------------------------
    @rpc
    def wechat_login(self, code, invite_code=None):
        args = schemas.load(schemas.WechatLogin(), {"code": code, "invite_code": invite_code})
        openid = self.wechat.code2session(args.code)["openid"]
        user, created = store.customer_for_openid(self.db.session, openid, args.invite_code)
        if created:
            self.db.emit(events.UserRegistered(user_id=user.id, invited_by=user.invited_by))
        return {**_login_result(user), "created": created}

    @rpc
    def merchant_login(self, username, password, address=None):
        """Staff login; `address` is the client's, as the gateway saw it. While the
        username, the address or the pair is locked out by failed logins, every login is
        TooManyRequests `login_locked`, before the password is looked at."""
        args = schemas.load(schemas.MerchantLogin(), {"username": username, "password": password,
                                                      "address": address})
        session, now, thresholds = self.db.session, clock.now(), config.lockout_thresholds()
        subjects = {scope: subject for scope, subject
                    in domain.lockout_subjects(args.username, args.address).items()
                    if scope in thresholds}
        domain.check_not_locked(store.login_failures(session, subjects).values(), now)
        user = store.find_user(session, username=args.username)
        if not passwords.verify_password(user.password_hash if user else None, args.password):
            lockout = config.lockout_seconds()
            store.update_login_failures(session, subjects, lambda scope, failures: (
                domain.after_failure(failures, thresholds[scope], lockout, now)))
            session.commit()  # the failure counts, though the answer is an error
            raise Unauthorized("invalid_credentials", "The username or password is wrong.")
        store.update_login_failures(session, subjects, domain.after_success)
        domain.check_back_office_access(domain.parse_roles(user.roles))
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(args.password)
        result = _login_result(user)
        shop = store.shop_of(self.db.session, user.id)
        result["user"]["shop_name"] = shop.name if shop else None
        return result

    @timer(interval=60)
    def forget_old_login_failures(self):
        """Counts whose window is over are deleted (safe in every replica: a plain DELETE)."""
        thresholds, now = config.lockout_thresholds(), clock.now()
        if thresholds:
            store.forget_login_failures(self.db.session,
                                        domain.windows_over_before(thresholds.values(), now), now)

    # --- staff --------------------------------------------------------------
    @rpc
    def create_staff_user(self, username, password, roles):
        args = schemas.load(schemas.StaffUser(),
                            {"username": username, "password": password, "roles": roles})
        return store.user_dict(store.add_staff_user(self.db.session, **args.as_kwargs()))

    @rpc
    def create_merchant(self, created_by, username, password, shop_name):
        """Ops opens a merchant account with its shop -> {id, username, shop_name}."""
        args = schemas.load(schemas.NewMerchant(), {
            "created_by": created_by, "username": username, "password": password,
            "shop_name": shop_name})
        user = store.add_merchant(self.db.session, **args.as_kwargs())
        return store.merchant_dict(user, store.shop_of(self.db.session, user.id))

    @rpc
    def list_merchants(self, page=1, page_size=20):
        args = schemas.load(schemas.PageArgs(), {"page": page, "page_size": page_size})
        rows, total = store.merchants_page(self.db.session, **args.as_kwargs())
        return paging.page([store.merchant_dict(user, shop) for user, shop in rows], total,
                           args.page, args.page_size)

    @rpc
    def ensure_demo_accounts(self):
        """Idempotent; Forbidden in production. -> {"created": [usernames]}"""
        return {"created": demo.ensure(self.db.session)}

    # --- profile ------------------------------------------------------------
    @rpc
    def get_user(self, user_id):
        args = schemas.load(schemas.UserRef(), {"user_id": user_id})
        return store.user_dict(store.get_user(self.db.session, args.user_id))

    @rpc
    def update_profile(self, user_id, changes):
        user_id, changes = schemas.load_profile_changes(user_id, changes)
        user = store.get_user(self.db.session, user_id, lock=True)
        for field, value in changes.items():
            setattr(user, field, value)
        return store.user_dict(user)

    # --- addresses ----------------------------------------------------------
    @rpc
    def list_addresses(self, user_id):
        """-> a list of addresses, the default first."""
        args = schemas.load(schemas.UserRef(), {"user_id": user_id})
        store.get_user(self.db.session, args.user_id)
        return [store.address_dict(a) for a in store.addresses_of(self.db.session, args.user_id)]

    @rpc
    def create_address(self, user_id, data):
        user_id, fields = schemas.load_new_address(user_id, data)
        session = self.db.session
        store.get_user(session, user_id, lock=True)
        existing = store.count_addresses(session, user_id)
        domain.check_room_for_address(existing)
        is_default = domain.new_address_is_default(existing, fields.pop("is_default", None))
        return store.address_dict(store.add_address(session, user_id, fields, is_default))

    @rpc
    def update_address(self, user_id, address_id, data):
        user_id, address_id, changes = schemas.load_address_changes(user_id, address_id, data)
        session = self.db.session
        store.get_user(session, user_id, lock=True)
        address = store.get_address(session, user_id, address_id)
        wants_default = changes.pop("is_default", None)
        domain.check_default_kept(address.is_default, wants_default)
        for field, value in changes.items():
            setattr(address, field, value)
        address.updated_at = clock.now()
        if wants_default and not address.is_default:
            store.make_default(session, address)
        return store.address_dict(address)

    @rpc
    def delete_address(self, user_id, address_id):
        """-> {"deleted": address_id, "default_address_id": the default now, or None}"""
        args = schemas.load(schemas.AddressRef(), {"user_id": user_id, "address_id": address_id})
        session = self.db.session
        store.get_user(session, args.user_id, lock=True)
        address = store.get_address(session, args.user_id, args.address_id)
        default_id = store.delete_address(session, address)
        return {"deleted": args.address_id, "default_address_id": default_id}

    @rpc
    def set_default_address(self, user_id, address_id):
        args = schemas.load(schemas.AddressRef(), {"user_id": user_id, "address_id": address_id})
        session = self.db.session
        store.get_user(session, args.user_id, lock=True)
        address = store.get_address(session, args.user_id, args.address_id)
        if not address.is_default:
            store.make_default(session, address)
        return store.address_dict(address)
