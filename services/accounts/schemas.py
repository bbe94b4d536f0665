"""Wire formats of the accounts service's RPC (marshmallow).

The gateway validates too, but a service never trusts its caller: every RPC
input passes through `load`, which turns marshmallow's complaints into a
`BadRequest("validation_failed", details={field: [messages]})`. Arguments load into a
record (`Args`: `args.user_id`); the changes to a profile or an address stay a dict of
what was given.
"""
from marshmallow import Schema, ValidationError, fields, validate

from plumbing import validation
from plumbing.validation import (  # noqa: F401  (load: the services' one loader)
    Args,
    Id,
    StrictBoolean,
    Text,
    invalid,
    load,
)
from services.accounts import domain


def _predicate(check, message):
    def validator(value):
        if not check(value):
            raise ValidationError(message)
    return validator


def text(max_length, **kwargs):
    return Text(validate=validate.Length(1, max_length), **kwargs)


mobile = _predicate(domain.is_mainland_mobile, "Must be an 11-digit mainland mobile number.")
username = _predicate(domain.is_valid_username,
                      "Must be 3-64 letters, digits, dots, dashes or underscores.")


class WechatLogin(Args):
    # Its format is the WeChat adapter's to judge (BadRequest "invalid_wechat_code").
    code = fields.String(required=True)
    # Anything string-shaped is accepted: an unusable invite code is ignored, not refused.
    invite_code = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=32))


class MerchantLogin(Args):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 1024))
    address = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(1, 64))  # an IPv6 address is at most 45


class StaffUser(Args):
    username = fields.String(required=True, validate=username)
    password = fields.String(required=True, validate=validate.Length(
        domain.MIN_PASSWORD_LENGTH, domain.MAX_PASSWORD_LENGTH))
    roles = fields.List(fields.String(validate=validate.OneOf(domain.STAFF_ROLES)),
                        required=True, validate=validate.Length(min=1))


class NewMerchant(Args):
    """Ops opens a merchant account and its shop."""
    created_by = Id(required=True)
    username = fields.String(required=True, validate=username)
    password = fields.String(required=True, validate=validate.Length(
        domain.MIN_PASSWORD_LENGTH, domain.MAX_PASSWORD_LENGTH))
    shop_name = text(32, required=True)


class PageArgs(Args, validation.PageArgs):
    pass


class UserRef(Args):
    user_id = Id(required=True)


class AddressRef(UserRef):
    address_id = Id(required=True)


class ProfileChanges(Schema):
    """Only the fields given change; null clears the avatar or the phone."""
    nickname = text(32)
    avatar_url = fields.String(allow_none=True, validate=[
        validate.Length(max=500), validate.URL(schemes={"http", "https"})])
    phone = fields.String(allow_none=True, validate=mobile)


class AddressFields(Schema):
    recipient = text(32, required=True)
    phone = fields.String(required=True, validate=mobile)
    province = text(32, required=True)
    city = text(32, required=True)
    district = text(32, required=True)
    detail = text(200, required=True)
    is_default = StrictBoolean()


def load_profile_changes(user_id, changes):
    ref = load(UserRef(), {"user_id": user_id})
    return ref.user_id, _nested(ProfileChanges(), changes, "changes")


def load_new_address(user_id, data):
    ref = load(UserRef(), {"user_id": user_id})
    return ref.user_id, _nested(AddressFields(), data, "data")


def load_address_changes(user_id, address_id, data):
    ref = load(AddressRef(), {"user_id": user_id, "address_id": address_id})
    return ref.user_id, ref.address_id, _nested(AddressFields(partial=True), data, "data")


def _nested(schema, data, name):
    """Field errors of a dict argument are reported by field; a non-dict by its name."""
    if not isinstance(data, dict):
        raise invalid({name: ["Must be an object."]})
    return load(schema, data)
