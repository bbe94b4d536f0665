"""The accounts service: entrypoints only; logging in is logins.py's, addresses
addresses.py's, rules live in domain.py, queries in store.py.

Users log in (shoppers with WeChat, staff with a password) and get a token signed
here and checked at the gateway; they keep a profile and delivery addresses.
"""
from plumbing import paging
from plumbing.db import Database
from plumbing.entrypoints import rpc, timer
from plumbing.probes import ServiceBase
from services.accounts import addresses, demo, logins, schemas, store
from services.accounts.wechat import WeChat


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
        return logins.wechat(self.db, openid, args.invite_code)

    @rpc
    def merchant_login(self, username, password, address=None):
        """Staff login; `address` is the client's, as the gateway saw it (for the lockout
        of failed logins: TooManyRequests `login_locked`)."""
        args = schemas.load(schemas.MerchantLogin(), {"username": username, "password": password,
                                                      "address": address})
        return logins.staff(self.db, args)

    @timer(interval=60)
    def forget_old_login_failures(self):
        logins.forget_old_failures(self.db)

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
        return store.address_dict(addresses.create(self.db.session, user_id, fields))

    @rpc
    def update_address(self, user_id, address_id, data):
        user_id, address_id, changes = schemas.load_address_changes(user_id, address_id, data)
        return store.address_dict(addresses.update(self.db.session, user_id, address_id,
                                                   changes))

    @rpc
    def delete_address(self, user_id, address_id):
        """-> {"deleted": address_id, "default_address_id": the default now, or None}"""
        args = schemas.load(schemas.AddressRef(), {"user_id": user_id, "address_id": address_id})
        default_id = addresses.delete(self.db.session, args.user_id, args.address_id)
        return {"deleted": args.address_id, "default_address_id": default_id}

    @rpc
    def set_default_address(self, user_id, address_id):
        args = schemas.load(schemas.AddressRef(), {"user_id": user_id, "address_id": address_id})
        return store.address_dict(addresses.make_default(self.db.session, args.user_id,
                                                         args.address_id))
