"""How an event is declared: a frozen pydantic model with its source, name and version.

    @event("teams", "team_failed", version=1)
    class TeamFailed(Event):
        "The team's deadline passed before it filled."
        team_id: Id
        paid_order_ids: list[Id]

The sender builds it by keyword and every field is checked strictly (a missing, extra or
mistyped field raises `BadPayload` at the `emit`, so a test of the sending path fails);
the receiver reads it leniently (unknown fields a newer sender adds are ignored, a time
arrives as ISO text). On the wire the payload is `to_data()`: plain JSON.
"""
from datetime import datetime, timezone
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictInt,
    ValidationError,
    WithJsonSchema,
)

from plumbing import clock
from plumbing.validation import MAX_ID  # the one bound of an id, as RPC arguments have it

DECLARED = {}  # (source, name) -> event class


BadPayload = ValidationError  # a payload that does not match its declaration


def _from_wire(value, info):
    """A listener reads a time as the ISO text JSON carries; a sender passes a datetime."""
    if isinstance(value, str) and (info.context or {}).get("wire"):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value  # refused below, as not a datetime
    return value


def _utc(moment):
    if moment.tzinfo is None:
        raise ValueError("a time must carry its timezone")
    return moment.astimezone(timezone.utc)


Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Fen = Annotated[StrictInt, Field(ge=0, description="money in fen (分)")]
Count = Annotated[StrictInt, Field(ge=0)]
UtcTime = Annotated[datetime, BeforeValidator(_from_wire), AfterValidator(_utc),
                    PlainSerializer(clock.isoformat, return_type=str),
                    WithJsonSchema({"type": "string", "format": "date-time"})]


class Part(BaseModel):
    """A nested piece of a payload (a SKU of a product). Fields it does not declare are
    ignored, as a listener ignores the top-level fields a newer sender adds."""
    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    source: ClassVar[str]
    name: ClassVar[str]
    event_version: ClassVar[int]  # (not `version`: a product snapshot has a field of that name)

    def to_data(self):
        return self.model_dump(mode="json")

    @classmethod
    def from_data(cls, data):
        """The payload as received: times as ISO text, fields it does not declare ignored."""
        known = {key: value for key, value in data.items() if key in cls.model_fields}
        return cls.model_validate(known, context={"wire": True})

    @classmethod
    def key(cls):
        return f"{cls.source}.{cls.name}"


def event(source, name, version=1):
    """Declare `cls` as the event `name` of the service `source`."""
    def declare(cls):
        if (source, name) in DECLARED:
            raise TypeError(f"{source}.{name} is declared twice")
        cls.source, cls.name, cls.event_version = source, name, version
        DECLARED[(source, name)] = cls
        return cls
    return declare


def field_types(cls):
    """[(field, type in words, required)] for the docs, from the model's own schema."""
    schema = cls.model_json_schema(mode="serialization", ref_template="{model}")
    required = set(schema.get("required", ()))
    return [(field, _describe(spec), field in required)
            for field, spec in schema["properties"].items()]


def _describe(spec):
    if "anyOf" in spec:
        kinds = [_describe(option) for option in spec["anyOf"] if option.get("type") != "null"]
        nullable = any(option.get("type") == "null" for option in spec["anyOf"])
        return " or ".join(kinds) + (" or null" if nullable else "")
    if "$ref" in spec:
        return spec["$ref"]
    if spec.get("type") == "array":
        return f"list of {_describe(spec.get('items', {}))}"
    if "enum" in spec:
        return " | ".join(f"`{value}`" for value in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    words = {"integer": "integer", "string": "text", "boolean": "true/false"}.get(
        spec.get("type"), spec.get("type", "any"))
    if spec.get("type") == "string" and spec.get("format") == "date-time" or \
            spec.get("type") == "string" and "time" in (spec.get("description") or ""):
        words = "UTC time (ISO 8601, Z)"
    limits = [f"{label} {spec[key]}" for key, label in (
        ("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"),
        ("maxLength", "length ≤")) if key in spec]
    if "pattern" in spec:
        limits.append(f"matching `{spec['pattern']}`")
    if spec.get("description"):
        limits.append(spec["description"])
    return words + (f" ({', '.join(limits)})" if limits else "")
