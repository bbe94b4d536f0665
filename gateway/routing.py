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

from plumbing import ratelimit, tokens
from plumbing.errors import BadRequest, Forbidden, Unauthorized
from plumbing.validation import check_json_tree, load
from plumbing.web import http

ROUTES = []


@dataclass
class Route:
    method: str
    path: str  # werkzeug form, e.g. /api/v1/products/<int:product_id>
    summary: str
    tag: str
    role: object = None  # None: public; "any": any logged-in user; else the role, or a
    # tuple of roles any one of which will do
    body: object = None
    query: object = None
    response: object = None
    status: int = 200
    # 401/403 a public route may answer too; others it may answer (openapi.DECLARED_ERRORS)
    errors: tuple = field(default_factory=tuple)
    max_body: object = None  # bytes, or a function giving them; None: PINTUAN_MAX_BODY_BYTES
    limit: str = None  # a kind of plumbing.ratelimit limits (login, join, pay), or None

    @property
    def roles(self):
        """The roles that may call it: () for a public route, ("any",) for any user."""
        if not self.role:
            return ()
        return self.role if isinstance(self.role, tuple) else (self.role,)


def route(method, path, summary, tag, role=None, body=None, query=None, response=None,
          status=200, errors=(), max_body=None, limit=None):
    spec = Route(method, path, summary, tag, role, body, query, response, status, errors,
                 max_body, limit)
    ROUTES.append(spec)

    def decorate(fn):
        @functools.wraps(fn)
        def handle(self, request, **path_values):
            kwargs = dict(path_values)
            if spec.role:
                kwargs["user"] = authenticate(request, spec.roles)
            if spec.limit:  # counted before the body is read: junk calls count too
                limiter().check(spec.limit, kwargs.get("user", {}).get("user_id"),
                                ratelimit.client_ip(request))
            if spec.body is not None:
                read = read_form if body_content_type(spec.body) == MULTIPART else read_json
                kwargs["body"] = load(spec.body, read(request))
            if spec.query is not None:
                kwargs["query"] = load(spec.query, request.args.to_dict())
            result = fn(self, request, **kwargs)
            if spec.response is not None:
                result = spec.response.dump(result)
            return spec.status, result
        return http(method, path, max_body_bytes=max_body)(handle)
    return decorate


JSON, MULTIPART = "application/json", "multipart/form-data"


@functools.cache
def limiter():
    """One Redis connection pool per gateway process."""
    return ratelimit.RateLimiter()


def body_content_type(schema):
    """A body schema may say `content_type = MULTIPART` (file uploads); JSON otherwise."""
    return getattr(schema, "content_type", JSON)


def read_form(request):
    """A multipart/form-data body: its text fields and files (werkzeug FileStorage)."""
    fields = request.form.to_dict()
    check_json_tree(fields)
    return {**fields, **request.files.to_dict()}


def authenticate(request, roles):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing_token", "Send `Authorization: Bearer <token>`.")
    user = tokens.verify(token.strip())
    roles = (roles,) if isinstance(roles, str) else roles
    if "any" not in roles and not set(roles) & set(user["roles"]):
        raise Forbidden("wrong_role", f"This needs the {' or '.join(roles)} role.")
    return user


def shop_scope(user):
    """Whose shop a back-office caller acts for: a merchant its own (its user id); ops the
    platform's, every shop (None)."""
    return None if "ops" in user["roles"] else user["user_id"]


def read_json(request):
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("invalid_json", "The body is not valid JSON.")
    except RecursionError:  # nested deeper than the parser goes
        raise BadRequest("invalid_json", "The body is nested too deeply.")
    if not isinstance(data, dict):
        raise BadRequest("invalid_json", "The body must be a JSON object.")
    check_json_tree(data)  # NUL in any string, absurd nesting: refused here, for every route
    return data
