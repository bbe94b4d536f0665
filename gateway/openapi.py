"""The OpenAPI 3 document, built by apispec from the route declarations and their
marshmallow schemas, so the document cannot drift from what is validated."""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway.routing import ROUTES, body_content_type
from gateway.schemas.common import Error

PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
STANDARD_ERRORS = {
    400: "Bad input: `validation_failed` (wrong types, missing fields; details per field), "
         "`invalid_json` (not JSON, not an object, nested too deep), `nul_character` (U+0000 "
         "in the body, query, path or a header), `invalid_host`, `bad_request_line`, "
         "`invalid_content_length`, `invalid_chunked_body`",
    401: "Missing, invalid or expired token",
    403: "The token's role may not do this",
    404: "Unknown id or route",
    409: "State conflict",
    413: "Body too large (`body_too_large`)",
}
# What any request may meet before or after its route runs: one component each.
EDGE_ERRORS = {
    414: ("UriTooLong", "The request line (method, path and query) is over 8192 bytes "
                        "(`uri_too_long`)"),
    431: ("HeadersTooLarge", "A header line is over 8192 bytes, the headers over 64 KiB or "
                             "more than 100 (`headers_too_large`)"),
    503: ("Unavailable", "Not available at the moment, retry: a service did not answer in "
                        "time (`service_timeout`) or is not running (`service_unavailable`), "
                        "the broker (`broker_unavailable`) or a service's database "
                        "(`database_unavailable`) is unreachable"),
}
# Answered only by the routes that declare them (Route.errors).
DECLARED_ERRORS = {
    422: "The Idempotency-Key was already used for another request (idempotency_key_reused)",
}
RATE_LIMITED = "Too many calls of this kind (per user and per address); retry after Retry-After seconds"


def _openapi_path(path):
    return PATH_PARAM.sub(lambda m: "{" + m.group(2) + "}", path)


def _path_parameters(path):
    return [{"name": name, "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 0} if kind == "int" else {"type": "string"}}
            for kind, name in PATH_PARAM.findall(path)]


def _operation(route):
    operation = {"summary": route.summary, "tags": [route.tag],
                 "operationId": _operation_id(route), "parameters": _path_parameters(route.path)}
    if route.query is not None:
        operation["parameters"].append({"in": "query", "schema": route.query})
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            body_content_type(route.body): {"schema": route.body}}}
    if route.role:
        operation["security"] = [{"bearer": []}]
    success = {"description": "OK"}
    if route.response is not None:
        success["content"] = {"application/json": {"schema": route.response}}
    operation["responses"] = {str(route.status): success}
    for status, text in STANDARD_ERRORS.items():
        if status in (401, 403) and not route.role and status not in route.errors:
            continue
        operation["responses"][str(status)] = _error(text)
    for status, (name, _) in EDGE_ERRORS.items():
        operation["responses"][str(status)] = name
    for status in route.errors:
        if status in DECLARED_ERRORS:
            operation["responses"][str(status)] = _error(DECLARED_ERRORS[status])
    if route.limit:
        operation["responses"]["429"] = {**_error(RATE_LIMITED), "headers": {"Retry-After": {
            "description": "Seconds until the limit lets the caller in", "schema": {"type": "integer"}}}}
    return operation


def _error(text):
    return {"description": text, "content": {"application/json": {"schema": "Error"}}}


def _operation_id(route):
    words = re.sub(r"[^a-zA-Z0-9]+", "_", _openapi_path(route.path)).strip("_")
    return f"{route.method.lower()}_{words}"


def _schema_name(schema):
    """A schema's component name; a partial (all-optional) use gets its own name."""
    cls = schema if isinstance(schema, type) else type(schema)
    partial = not isinstance(schema, type) and schema.partial is True
    return f"{cls.__name__}Partial" if partial else cls.__name__


NULL_OBJECT = {"type": "object", "nullable": True}


def _nullable_reference(self, field, ret, **kwargs):
    """A nested schema that may be null. OpenAPI 3.0 has no null type, and apispec writes
    one as `anyOf: [{type: object, nullable: true}, {$ref}]`: generated clients read the
    first as an object of no fields and never get the real one. `allOf: [{$ref}],
    nullable: true` says the same in the form they understand."""
    if NULL_OBJECT not in ret.get("anyOf", ()):
        return {}
    return {"allOf": [part for part in ret.pop("anyOf") if part != NULL_OBJECT], "nullable": True}


def build():
    marshmallow = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(title="Pintuan API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[marshmallow],
                   info={"description": "Group-buying shop: shoppers under /api/v1, "
                                        "merchants and ops under /admin/v1."})
    marshmallow.converter.add_attribute_function(_nullable_reference)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"})
    spec.components.schema("Error", schema=Error)
    for name, text in EDGE_ERRORS.values():
        spec.components.response(name, _error(text))
    paths = {}
    for route in ROUTES:
        paths.setdefault(_openapi_path(route.path), {})[route.method.lower()] = _operation(route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
