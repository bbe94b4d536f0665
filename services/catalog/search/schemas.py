"""Wire formats of the search, listing and home RPCs (marshmallow), loaded into `Args`
records. Checks that involve
several fields (price range, how deep a listing pages) are in rules.py."""
from marshmallow import fields, validate

from plumbing import validation
from plumbing.validation import Args, Fen, Id, StrictBoolean, StrictInteger
from services.catalog.schemas import Trimmed
from services.catalog.search import rules

MAX_QUERY_LENGTH = 50


class PageArgs(Args, validation.PageArgs):
    # Any page number passes here: how deep a listing pages is rules.py's to say.
    page = StrictInteger(load_default=1, validate=validate.Range(min=1))


def Price():  # noqa: N802 - reads as a field type
    return Fen(minimum=0, error=None, allow_none=True, load_default=None)


def Flag():  # noqa: N802
    """true filters; false or absent does not (there is no "only without")."""
    return StrictBoolean(allow_none=True, load_default=None)


class ListingArgs(PageArgs):
    q = Trimmed(allow_none=True, load_default=None,
                validate=validate.Length(max=MAX_QUERY_LENGTH))
    category_id = Id(allow_none=True, load_default=None)
    min_price = Price()
    max_price = Price()
    group_buy = Flag()
    has_discount = Flag()
    # None: relevance when there is a query, newest otherwise
    sort = fields.String(allow_none=True, load_default=None,
                         validate=validate.OneOf(rules.SORTS))


class HomeArgs(Args):
    limit = StrictInteger(load_default=6, validate=validate.Range(min=1,
                                                                  max=rules.MAX_HOME_LIMIT))


class SectionArgs(PageArgs):
    section = fields.String(required=True)
