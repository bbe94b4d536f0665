"""Gateway routes for logging in and the shopper's own account: profile and addresses."""
from gateway.routing import route
from gateway.schemas import accounts as s
from plumbing import ratelimit
from plumbing.rpc import RemoteService

SHOP, AUTH = "shop", "auth"


class AccountRoutes:
    accounts = RemoteService("accounts")

    @route("POST", "/api/v1/auth/wechat-login", "Log in with a WeChat mini-program code", AUTH,
           body=s.WechatLogin(), response=s.LoginResult(), limit="login", errors=(401,))
    def wechat_login(self, request, body):
        return self.accounts.wechat_login(body["code"], body.get("invite_code"))

    @route("POST", "/admin/v1/auth/login",
           "Merchant or ops login; failed logins lock the username, the address or both out "
           "for a while (429 login_locked)", AUTH, body=s.StaffLogin(),
           response=s.StaffLoginResult(), limit="staff_login", errors=(401, 403))
    def staff_login(self, request, body):
        return self.accounts.merchant_login(body["username"], body["password"],
                                            address=ratelimit.client_ip(request))

    @route("GET", "/api/v1/me", "My profile", SHOP, role="any", response=s.User())
    def my_profile(self, request, user):
        return self.accounts.get_user(user["user_id"])

    @route("PATCH", "/api/v1/me", "Change my nickname, avatar or phone", SHOP, role="any",
           body=s.ProfileChange(), response=s.User())
    def change_profile(self, request, user, body):
        return self.accounts.update_profile(user["user_id"], body)

    @route("GET", "/api/v1/addresses", "My delivery addresses", SHOP, role="customer",
           response=s.AddressList())
    def list_addresses(self, request, user):
        return {"items": self.accounts.list_addresses(user["user_id"])}

    @route("POST", "/api/v1/addresses", "Add an address (the first becomes the default)", SHOP,
           role="customer", body=s.AddressInput(), response=s.Address(), status=201)
    def create_address(self, request, user, body):
        return self.accounts.create_address(user["user_id"], body)

    @route("PUT", "/api/v1/addresses/<int:address_id>", "Replace an address", SHOP,
           role="customer", body=s.AddressInput(), response=s.Address())
    def update_address(self, request, user, body, address_id):
        return self.accounts.update_address(user["user_id"], address_id, body)

    @route("DELETE", "/api/v1/addresses/<int:address_id>", "Delete an address", SHOP,
           role="customer", response=s.AddressList())
    def delete_address(self, request, user, address_id):
        self.accounts.delete_address(user["user_id"], address_id)
        return {"items": self.accounts.list_addresses(user["user_id"])}

    @route("POST", "/api/v1/addresses/<int:address_id>/default", "Make an address the default",
           SHOP, role="customer", response=s.Address())
    def set_default_address(self, request, user, address_id):
        return self.accounts.set_default_address(user["user_id"], address_id)
