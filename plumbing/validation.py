"""Input validation with marshmallow, and the one shape of a validation error:
BadRequest `validation_failed` with details `{"field.path": [messages]}` (nested
fields and list items joined with dots: `skus.0.price`), and the field types every
service shares: strict numbers and booleans, ids, money, quantities, paging, text a
person writes, UTC times; and `Args`, entrypoint arguments loaded into a frozen record."""
import dataclasses
import re
from datetime import timezone

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    missing,
    post_load,
    validate,
    validates_schema,
)

from plumbing.errors import BadRequest
from plumbing.money import MAX_ORDER_FEN

MESSAGE = "Some fields are missing or wrong."


def invalid(details, message=MESSAGE):
    return BadRequest("validation_failed", message, details=details)


def flatten(messages, prefix=""):
    if not isinstance(messages, dict):
        return {prefix.rstrip(".") or "_schema": list(messages)}
    flat = {}
    for key, value in messages.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, path + "."))
        else:
            flat[path] = list(value)
    return flat


def load(schema, data):
    """Validated data, or `validation_failed`. `schema` is a Schema class or instance."""
    if isinstance(schema, type):
        schema = schema()
    try:
        return schema.load(data)
    except ValidationError as error:
        raise invalid(flatten(error.messages)) from None


class StrictInteger(fields.Integer):
    """A JSON integer: no numeric strings, floats or booleans (True is an int in Python)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class StrictBoolean(fields.Boolean):
    """Only true or false: 1 and "yes" are a sender's mistake, not a choice."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def Whole(low, high, **kwargs):  # noqa: N802 - reads as a field type
    """A strict integer from `low` to `high` (either None: unbounded on that side)."""
    return StrictInteger(validate=validate.Range(min=low, max=high), **kwargs)


# --- ids, money, quantities ---------------------------------------------------------------
MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: a larger one could never exist
MAX_QUANTITY = 9_999  # units of one SKU in one order, seat or reservation
FEN_RANGE = "Must be between {min} and {max} fen."


def Id(**kwargs):  # noqa: N802
    """A record's id: 1 to MAX_ID (a larger one would fail the query, not just miss)."""
    return Whole(1, MAX_ID, **kwargs)


def ids(*names, base=Schema):
    """The schema of arguments that are ids only, in one line (`OrderArgs =
    ids("order_id")`; `JoinArgs = ids("team_id", base=SeatArgs)` adds to a schema)."""
    title = "".join(part.title() for name in names for part in name.split("_"))
    return base.from_dict({name: Id(required=True) for name in names}, name=f"{title}Args")


def OptionalId(**kwargs):  # noqa: N802
    """An id that may be absent or null (None)."""
    return Id(allow_none=True, load_default=None, **kwargs)


def Fen(minimum=1, maximum=MAX_ORDER_FEN, error=FEN_RANGE, **kwargs):  # noqa: N802
    """Money: whole fen (分), by default 1 to what one order may come to. `error=None`
    words a refusal as marshmallow does."""
    return StrictInteger(validate=validate.Range(min=minimum, max=maximum, error=error),
                         **kwargs)


def Quantity(**kwargs):  # noqa: N802
    """Units bought: 1 to MAX_QUANTITY."""
    return Whole(1, MAX_QUANTITY, **kwargs)


# --- paging ---------------------------------------------------------------------------------
MAX_PAGE = 10_000  # deeper pages are a scraper's, not a shopper's
MAX_PAGE_SIZE = 50
DEFAULT_PAGE_SIZE = 20
# The bounds as validators, for callers whose transport needs another field type (the
# gateway reads query strings, so its numbers are not strict).
PAGE_RANGE = validate.Range(min=1, max=MAX_PAGE)
PAGE_SIZE_RANGE = validate.Range(min=1, max=MAX_PAGE_SIZE)


def PageNumber(**kwargs):  # noqa: N802
    return StrictInteger(load_default=1, validate=PAGE_RANGE, **kwargs)


def PageSize(default=DEFAULT_PAGE_SIZE, **kwargs):  # noqa: N802
    return StrictInteger(load_default=default, validate=PAGE_SIZE_RANGE, **kwargs)


class PageArgs(Schema):
    """`page` 1 to MAX_PAGE (default 1), `page_size` 1 to MAX_PAGE_SIZE (default 20). A plain
    schema, so that it mixes into dict schemas and `Args` records alike."""
    page = PageNumber()
    page_size = PageSize()


# --- text a person writes ---------------------------------------------------------------
# C0 and C1 control characters break lists, labels and logs; the bidi embeddings,
# overrides and isolates make text read other than it is stored (a name that shows
# "gpj.exe" as "exe.jpg"). Line and paragraph separators count as line breaks.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_SINGLE_LINE_REFUSED = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
_MULTI_LINE_REFUSED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def is_clean_text(value, multiline=False):
    """No control or bidi-override characters; `multiline` text may hold tabs and line
    breaks (\\t \\n \\r)."""
    refused = _MULTI_LINE_REFUSED if multiline else _SINGLE_LINE_REFUSED
    return isinstance(value, str) and refused.search(value) is None


class Text(fields.String):
    """Text a person writes (a name, a title, a review): surrounding whitespace trimmed,
    no control or bidi-override characters. `multiline=True` allows tabs and line breaks."""

    def __init__(self, multiline=False, **kwargs):
        super().__init__(**kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not is_clean_text(text, self.multiline):
            raise ValidationError("Must not contain control characters or line breaks."
                                  if not self.multiline else
                                  "Must not contain control or text-direction characters.")
        return text


# --- times and flags --------------------------------------------------------------------

class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 time with its offset (a naive time is ambiguous), turned to UTC. A time
    whose UTC form is past year 9999 (9999-12-31T23:59:59-01:00) is refused, not a crash."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "iso")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(timezone.utc)
        except OverflowError:
            raise ValidationError("Must be a time between the years 1 and 9999 in UTC.") \
                from None


def QueryFlag(**kwargs):  # noqa: N802 - reads as a field type
    """A query-string boolean: only `true` or `false` (not 1, yes or True)."""
    return fields.Boolean(truthy={"true"}, falsy={"false"}, **kwargs)


class Changes(Schema):
    """The fields an edit changes (a dict of those given); an edit that names none is
    refused, rather than taken as a no-op the sender did not mean."""

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Nothing to change.")


# --- entrypoint arguments as records ---------------------------------------------------------

class Args(Schema):
    """A schema whose `load` gives a frozen record of its fields (`args.team_id`, not
    `args["team_id"]`), so an argument can be followed by name; `as_kwargs()` gives them
    back as a dict. Every field is required or has a `load_default`: a record has them all."""

    @post_load
    def as_record(self, data, **kwargs):
        return self.record_type()(**data)

    @classmethod
    def record_type(cls):
        record = cls.__dict__.get("_record")
        if record is None:
            record = cls._record = _record_class(cls.__name__, cls._declared_fields)
        return record


@dataclasses.dataclass(frozen=True)
class Record:
    def as_kwargs(self):
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


def _record_class(name, declared):
    optional = sorted(key for key, field in declared.items()
                      if not field.required and field.load_default is missing)
    if optional:
        raise TypeError(f"{name}: {', '.join(optional)} neither required nor defaulted")
    return dataclasses.make_dataclass(name, list(declared), bases=(Record,), frozen=True)


# --- a JSON body as a whole -------------------------------------------------------------
MAX_JSON_DEPTH = 32  # objects and arrays; far deeper than any body we take


def check_json_tree(data):
    """Refuses a parsed JSON body nested deeper than MAX_JSON_DEPTH (`invalid_json`) or
    holding a NUL character in any key or string (`nul_character`: PostgreSQL cannot
    store it). Walked without recursion, so no depth crashes it."""
    pending = [(data, "", 1)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, (dict, list)) and depth > MAX_JSON_DEPTH:
            raise BadRequest("invalid_json",
                             f"The body nests objects and arrays deeper than {MAX_JSON_DEPTH}.")
        if isinstance(value, str):
            if "\x00" in value:
                raise nul_character(path or "_body")
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    raise nul_character(child)
                pending.append((item, child, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, f"{path}.{index}" if path else str(index), depth + 1)
                           for index, item in enumerate(value))


def nul_character(where):
    return BadRequest("nul_character", "Text must not contain the NUL character (U+0000).",
                      details={where: ["Contains U+0000."]})
