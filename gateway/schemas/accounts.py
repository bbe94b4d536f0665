"""Wire schemas of login, the shopper's profile and addresses."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import URL, Boolean, Integer, String, Strings
from plumbing.validation import StrictBoolean, Text

PHONE = validate.Regexp(r"^1[3-9][0-9]{9}$", error="Must be an 11-digit mainland mobile number.")


class WechatLogin(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 128))
    invite_code = fields.String(validate=validate.Length(1, 32), allow_none=True)


TOKEN = String("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl",
               "send it as `Authorization: Bearer <token>`", required=True)


class UserSummary(Schema):
    id = Integer(42, required=True)
    nickname = String("微信用户", required=True)


class User(UserSummary):
    avatar_url = String("https://img.example/avatar.png", allow_none=True, required=True)
    phone = String("13800138000", allow_none=True, required=True)
    roles = Strings(["customer"], "customer, merchant, ops", required=True)
    invite_code = String("K7Q2M9", "to invite friends (wechat-login's invite_code)",
                         required=True)


class LoginResult(Schema):
    token = TOKEN
    user = fields.Nested(UserSummary, required=True)


class StaffLogin(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 128))


class Staff(User):
    shop_name = String("阳光果园", "a merchant's shop; null for ops", allow_none=True,
                       required=True)


class StaffLoginResult(Schema):
    token = TOKEN
    user = fields.Nested(Staff, required=True)


class ProfileChange(Schema):
    nickname = Text(validate=validate.Length(1, 32))
    avatar_url = fields.String(allow_none=True, validate=[validate.Length(max=500), URL],
                               metadata={"description": "null removes it"})
    phone = fields.String(allow_none=True, validate=PHONE,
                          metadata={"description": "null removes it"})


class AddressInput(Schema):
    recipient = Text(required=True, validate=validate.Length(1, 32))
    phone = fields.String(required=True, validate=PHONE)
    province = Text(required=True, validate=validate.Length(1, 32))
    city = Text(required=True, validate=validate.Length(1, 32))
    district = Text(required=True, validate=validate.Length(1, 32))
    detail = Text(required=True, validate=validate.Length(1, 200))
    is_default = StrictBoolean()


class PostalAddress(Schema):
    id = Integer(7, required=True)
    recipient = String("张三", required=True)
    phone = String("13800138000", required=True)
    province = String("浙江省", required=True)
    city = String("杭州市", required=True)
    district = String("西湖区", required=True)
    detail = String("文三路 1 号", required=True)


class Address(PostalAddress):
    """An entry of the shopper's address book."""
    is_default = Boolean(True, required=True)


class AddressList(Schema):
    items = fields.List(fields.Nested(Address), required=True)
