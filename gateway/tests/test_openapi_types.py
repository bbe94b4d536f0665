"""Every answer in /openapi.json is typed: each object reachable from a route's answers
declares its properties, each property its type and an example, so a client generated
from the document gets attributes, not dicts. A map is allowed only where it is one by
design, named here with the reason."""
import pytest

from gateway import openapi
from gateway.service import GatewayService  # noqa: F401  (registers the routes)

MAPS = {
    "ErrorBody.details": "its keys and values depend on the error code (per field for "
                         "validation_failed, retry_after for rate_limited)",
    "ServiceHealth.checks": "one entry per thing the service checks (database, broker; http "
                            "when /health did not answer), each ok or what failed",
}


@pytest.fixture(scope="module")
def document():
    return openapi.build()


def answer_schemas(document):
    """(where, schema) of every answer of every route, success and error alike."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if isinstance(answer, str):  # a shared response component
                    answer = document["components"]["responses"][answer]
                for content in answer.get("content", {}).values():
                    yield f"{method.upper()} {path} {status}", content["schema"]


def component(document, schema):
    """A schema reference (apispec writes component names or $refs) to (name, schema)."""
    ref = schema if isinstance(schema, str) else schema.get("$ref")
    if ref is None:
        return None, schema
    name = ref.rsplit("/", 1)[-1]
    return name, document["components"]["schemas"][name]


def flaws(document):
    """What a generated client could not type, as `Schema.field: what`."""
    found, seen = [], set()

    def visit(schema, where):
        name, schema = component(document, schema)
        if name is not None:
            if name in seen:
                return
            seen.add(name)
            where = name
        for part in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
            visit(part, where)
        if any(key in schema for key in ("allOf", "anyOf", "oneOf")):
            return
        kind = schema.get("type")
        if kind is None:
            found.append(f"{where}: no type")
        elif kind == "array":
            visit(schema.get("items", {}), f"{where}[]")
        elif kind == "object":
            object_flaws(schema, where)

    def object_flaws(schema, where):
        properties = schema.get("properties")
        if not properties:
            values = schema.get("additionalProperties")
            if where not in MAPS:
                found.append(f"{where}: an object without declared properties")
            elif values not in (None, {}, True):
                visit(values, f"{where}{{}}")
            return
        for field, declared in properties.items():
            if not _refers(declared) and "example" not in declared:
                found.append(f"{where}.{field}: no example")
            visit(declared, f"{where}.{field}")

    for where, schema in answer_schemas(document):
        visit(schema, where)
    return found


def _refers(schema):
    """A nested schema or a list of them: their own fields carry the examples."""
    if "$ref" in schema or "allOf" in schema or "anyOf" in schema:
        return True
    return schema.get("type") == "array" and _refers(schema.get("items", {}))


def test_every_answer_declares_every_field_with_its_type_and_an_example(document):
    assert flaws(document) == []


def test_the_product_page_and_the_share_view_are_typed_to_the_last_field(document):
    schemas = document["components"]["schemas"]
    detail = schemas["ProductDetail"]["properties"]
    assert detail["campaign"] == {
        "allOf": [{"$ref": "#/components/schemas/ShopperCampaign"}], "nullable": True,
        "description": detail["campaign"]["description"]}
    assert detail["joinable_teams"]["items"] == {"$ref": "#/components/schemas/JoinableTeam"}
    assert schemas["ShareView"]["properties"]["campaign"] == {
        "$ref": "#/components/schemas/ShareCampaign"}
    assert schemas["ShareCampaignSku"]["properties"]["price"]["nullable"] is True
    assert {"sku_id", "group_price"} <= set(schemas["CampaignSku"]["required"])


def test_a_nested_answer_that_may_be_null_is_its_schema_or_null():
    """Not apispec's anyOf of an empty object and the schema: a generated client reads
    a follow-up as that empty object and never gets its text."""
    follow_up = openapi.build()["components"]["schemas"]["Review"]["properties"]["follow_up"]
    assert follow_up["allOf"] == [{"$ref": "#/components/schemas/FollowUp"}]
    assert follow_up["nullable"] is True and "anyOf" not in follow_up


def test_the_check_itself_finds_untyped_fields_and_maps_not_allowed(document):
    schemas = document["components"]["schemas"]
    broken = {**document, "components": {**document["components"], "schemas": {
        **schemas,
        "Team": {**schemas["Team"], "properties": {**schemas["Team"]["properties"],
                                                    "extra": {"type": "object"},
                                                    "loose": {}}},
        "JoinableTeam": {**schemas["JoinableTeam"], "properties": {
            **schemas["JoinableTeam"]["properties"], "seats_left": {"type": "integer"}}}}}}
    assert sorted(flaws(broken)) == ["JoinableTeam.seats_left: no example",
                                     "Team.extra: an object without declared properties",
                                     "Team.extra: no example", "Team.loose: no example",
                                     "Team.loose: no type"]
