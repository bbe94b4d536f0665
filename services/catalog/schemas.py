"""Wire formats of the catalog service's RPC input and of the events it reads (marshmallow).

Every RPC argument goes through `load` first: a service never trusts its caller.
Schemas check shape, types and single-field ranges; rules that involve several
fields or the stored state (spec uniqueness, market price vs price, SKU count)
live in domain.py.
"""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from plumbing.validation import (
    Args,
    Changes,
    Fen,
    Id,
    PageArgs,
    Quantity,
    StrictBoolean,
    StrictInteger,
    Text,
    ids,
    load,  # noqa: F401  (the services' one loader)
)
from services.catalog import domain, images

MAX_STOCK = 10_000_000


class Trimmed(Text):
    """One line without surrounding spaces (so "  " does not pass as a title), and without
    control or bidi-override characters (the rule of all text a person writes)."""


WEB_URL = validate.URL(schemes={"http", "https"})


def image_ref(value):
    """An image is an http(s) URL, or the /media/<name> path of one uploaded here."""
    name = value.removeprefix(images.URL_PREFIX)
    if name != value and images.is_media_name(name):
        return
    try:
        WEB_URL(value)
    except ValidationError:
        raise ValidationError("Must be an http(s) URL or an uploaded image's /media/ path.") \
            from None


def ImageRef(**kwargs):  # noqa: N802
    return Trimmed(validate=[validate.Length(max=500), image_ref], **kwargs)


def upload_ref(value):
    """A picture a shopper attaches is one uploaded here: its /media/<name> path."""
    name = value.removeprefix(images.URL_PREFIX)
    if name == value or not images.is_media_name(name):
        raise ValidationError("Must be the /media/ path of an uploaded image.")


def UploadRef(**kwargs):  # noqa: N802
    return Trimmed(validate=upload_ref, **kwargs)


def WebUrl(**kwargs):  # noqa: N802
    return fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500), **kwargs)


# --- categories ----------------------------------------------------------------

class CategoryFields(Schema):
    name = Trimmed(validate=validate.Length(min=1, max=50))
    parent_id = Id(allow_none=True)
    sort_order = StrictInteger(validate=validate.Range(min=-1_000_000, max=1_000_000))
    icon_url = ImageRef(allow_none=True)


class CategoryIn(CategoryFields):
    name = Trimmed(required=True, validate=validate.Length(min=1, max=50))
    parent_id = Id(allow_none=True, load_default=None)
    sort_order = StrictInteger(load_default=0, validate=validate.Range(min=-1_000_000,
                                                                       max=1_000_000))
    icon_url = ImageRef(allow_none=True, load_default=None)


class CategoryChange(Changes, CategoryFields):
    pass


CategoryArgs = ids("category_id", base=Args)


# --- products --------------------------------------------------------------------
# How many values and SKUs there may be is domain's to say (it words the errors);
# the list lengths here only bound the work a malformed request can cause.

class SpecGroupIn(Schema):
    name = Trimmed(required=True, validate=validate.Length(min=1, max=20))
    values = fields.List(Trimmed(validate=validate.Length(min=1, max=20)), required=True,
                         validate=validate.Length(max=100))


def SpecValues(**kwargs):  # noqa: N802
    return fields.List(Trimmed(validate=validate.Length(min=1, max=20)),
                       validate=validate.Length(max=10), **kwargs)


def Code(**kwargs):  # noqa: N802  - the merchant's own SKU code (商家编码)
    return Trimmed(validate=validate.Length(min=1, max=64), **kwargs)


class SkuIn(Schema):
    """A new SKU: with spec groups it gives spec_values, else a free-text spec."""
    spec = Trimmed(validate=validate.Length(min=1, max=domain.MAX_SPEC_LENGTH))
    spec_values = SpecValues(load_default=list)
    price = Fen(required=True)
    stock = StrictInteger(required=True, validate=validate.Range(min=0, max=MAX_STOCK))
    market_price = Fen(allow_none=True, load_default=None)
    code = Code(allow_none=True, load_default=None)
    image_url = ImageRef(allow_none=True, load_default=None)


class SkuChange(Schema):
    """An SKU in an update: with an id, the fields to change; without, a new SKU."""
    id = Id()
    spec = Trimmed(validate=validate.Length(min=1, max=domain.MAX_SPEC_LENGTH))
    spec_values = SpecValues()
    price = Fen()
    stock = StrictInteger(validate=validate.Range(min=0, max=MAX_STOCK))
    market_price = Fen(allow_none=True)
    code = Code(allow_none=True)
    image_url = ImageRef(allow_none=True)

    @validates_schema
    def new_sku_is_complete(self, data, **kwargs):
        if "id" not in data:
            missing = [name for name in ("price", "stock") if name not in data]
            if missing:
                raise ValidationError({name: ["Required for a new SKU."] for name in missing})


class ProductFields(Schema):
    title = Trimmed(validate=validate.Length(min=1, max=100))
    subtitle = Trimmed(validate=validate.Length(max=200))
    # Rich text from the back office editor, stored as given; shown by the
    # mini-program's rich-text component, which renders no scripts.
    description = fields.String(validate=validate.Length(max=20_000))
    category_id = Id(allow_none=True)
    image_urls = fields.List(ImageRef(), validate=validate.Length(max=20))
    video_url = WebUrl(allow_none=True)
    spec_groups = fields.List(fields.Nested(SpecGroupIn), validate=validate.Length(max=10))
    low_stock_threshold = StrictInteger(validate=validate.Range(min=0, max=MAX_STOCK))


class ProductIn(ProductFields):
    title = Trimmed(required=True, validate=validate.Length(min=1, max=100))
    subtitle = Trimmed(load_default="", validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=20_000))
    category_id = Id(allow_none=True, load_default=None)
    image_urls = fields.List(ImageRef(), load_default=list, validate=validate.Length(max=20))
    video_url = WebUrl(allow_none=True, load_default=None)
    spec_groups = fields.List(fields.Nested(SpecGroupIn), load_default=list,
                              validate=validate.Length(max=10))
    low_stock_threshold = StrictInteger(load_default=10,
                                        validate=validate.Range(min=0, max=MAX_STOCK))
    skus = fields.List(fields.Nested(SkuIn), required=True, validate=validate.Length(max=100))


class ProductChange(Changes, ProductFields):
    skus = fields.List(fields.Nested(SkuChange), validate=validate.Length(max=100))


class PinArgs(Args):
    rank = StrictInteger(required=True, validate=validate.Range(min=0, max=9_999))


MerchantArgs = ids("merchant_id", base=Args)
ProductArgs = ids("product_id", base=Args)
MerchantProductArgs = ids("product_id", base=MerchantArgs)


class AdminListArgs(MerchantArgs, PageArgs):
    status = fields.String(allow_none=True, load_default=None,
                           validate=validate.OneOf(domain.PRODUCT_STATUSES))
    category_id = Id(allow_none=True, load_default=None)
    low_stock = StrictBoolean(allow_none=True, load_default=None)  # true: some SKU is low
    q = Trimmed(allow_none=True, load_default=None, validate=validate.Length(max=50))


# --- images --------------------------------------------------------------------

class UploadArgs(Args):
    user_id = Id(required=True)
    data_b64 = fields.String(required=True)  # its size and content are images.py's to judge


# --- stock -------------------------------------------------------------------------

class UploadRefsArgs(Args):
    image_urls = fields.List(UploadRef(), required=True)


class ReservationArgs(Args):
    reservation_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ReservationItem(Schema):
    sku_id = Id(required=True)
    quantity = Quantity(required=True)


class ReserveArgs(ReservationArgs):
    items = fields.List(fields.Nested(ReservationItem), required=True,
                        validate=validate.Length(min=1, max=domain.MAX_SKUS))
