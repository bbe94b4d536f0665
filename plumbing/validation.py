"""Input validation with marshmallow, and the one shape of a validation error:
BadRequest `validation_failed` with details `{"field.path": [messages]}` (nested
fields and list items joined with dots: `skus.0.price`), and the field types every
service shares: strict numbers and booleans, text a person writes, UTC times."""
import re
from datetime import timezone

from marshmallow import ValidationError, fields

from plumbing.errors import BadRequest

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
