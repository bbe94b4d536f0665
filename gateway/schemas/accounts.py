"""Wire schemas of login, the shopper's profile and addresses."""
from marshmallow import Schema, fields, validate

from gateway.schemas.common import URL
from plumbing.validation import StrictBoolean, Text

PHONE = validate.Regexp(r"^1[3-9][0-9]{9}$", error="Must be an 11-digit mainland mobile number.")


class WechatLogin(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 128))
    invite_code = fields.String(validate=validate.Length(1, 32), allow_none=True)


class UserSummary(Schema):
    id = fields.Integer(required=True)
    nickname = fields.String()


class User(UserSummary):
    avatar_url = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    invite_code = fields.String(allow_none=True)


class LoginResult(Schema):
    token = fields.String(required=True)
    user = fields.Nested(UserSummary, required=True)


class StaffLogin(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 128))


class Staff(User):
    shop_name = fields.String(allow_none=True, metadata={"description": "a merchant's shop"})


class StaffLoginResult(Schema):
    token = fields.String(required=True)
    user = fields.Nested(Staff)


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


class Address(AddressInput):
    id = fields.Integer(required=True)


class AddressList(Schema):
    items = fields.List(fields.Nested(Address), required=True)
