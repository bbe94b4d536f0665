"""How a gateway route is declared: method, path, who may call it, and the
marshmallow schemas of its body, query and response.

One declaration serves three purposes: the Nameko HTTP entrypoint, the
validation of every request (and the shaping of every response), and the
OpenAPI document. There is no business logic here: a route checks the caller
and the input, calls a service, and shapes what comes back.
"""
import functools
import json
from dataclasses import dataclass, field

from plumbing import tokens
from plumbing.errors import BadRequest, Forbidden, Unauthorized
from plumbing.validation import load
from plumbing.web import http

ROUTES = []


@dataclass
class Route:
    method: str
    path: str  # werkzeug form, e.g. /api/v1/products/<int:product_id>
    summary: str
    tag: str
    role: str = None  # None: public; "any": any logged-in user; else the role required
    body: object = None
    query: object = None
    response: object = None
    status: int = 200
    errors: tuple = field(default_factory=tuple)


def route(method, path, summary, tag, role=None, body=None, query=None, response=None,
          status=200, errors=()):
    spec = Route(method, path, summary, tag, role, body, query, response, status, errors)
    ROUTES.append(spec)

    def decorate(fn):
        @functools.wraps(fn)
        def handle(self, request, **path_values):
            kwargs = dict(path_values)
            if spec.role:
                kwargs["user"] = authenticate(request, spec.role)
            if spec.body is not None:
                kwargs["body"] = load(spec.body, read_json(request))
            if spec.query is not None:
                kwargs["query"] = load(spec.query, request.args.to_dict())
            result = fn(self, request, **kwargs)
            if spec.response is not None:
                result = spec.response.dump(result)
            return spec.status, result
        return http(method, path)(handle)
    return decorate


def authenticate(request, role):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing_token", "Send `Authorization: Bearer <token>`.")
    user = tokens.verify(token.strip())
    if role != "any" and role not in user["roles"]:
        raise Forbidden("wrong_role", f"This needs the {role} role.")
    return user


def read_json(request):
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("invalid_json", "The body is not valid JSON.")
    if not isinstance(data, dict):
        raise BadRequest("invalid_json", "The body must be a JSON object.")
    return data
