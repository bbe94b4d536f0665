"""Input validation with marshmallow, and the one shape of a validation error:
BadRequest `validation_failed` with details `{"field.path": [messages]}` (nested
fields and list items joined with dots: `skus.0.price`)."""
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
