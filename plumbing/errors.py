"""Typed errors that cross RPC intact and map to one HTTP status at the gateway.

Each is registered with Nameko's remote-exception registry, so a service that
raises `Conflict("team_full", ...)` makes the caller raise the same `Conflict`.
"""
from nameko.exceptions import deserialize_to_instance


class AppError(Exception):
    status = 400
    default_code = "bad_request"

    def __init__(self, code=None, message="", details=None):
        code = code or self.default_code
        details = details or {}  # Nameko would send None across RPC as the string "None"
        super().__init__(code, message, details)
        self.code = code
        self.message = message
        self.details = details

    def headers(self):
        """HTTP headers the answer carries besides the JSON body."""
        return {}

    def to_dict(self):
        body = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body

    def __str__(self):
        return f"{self.code}: {self.message}"


@deserialize_to_instance
class BadRequest(AppError):
    status = 400
    default_code = "bad_request"


@deserialize_to_instance
class Unauthorized(AppError):
    status = 401
    default_code = "unauthorized"


@deserialize_to_instance
class Forbidden(AppError):
    status = 403
    default_code = "forbidden"


@deserialize_to_instance
class NotFound(AppError):
    status = 404
    default_code = "not_found"


@deserialize_to_instance
class Conflict(AppError):
    status = 409
    default_code = "conflict"


@deserialize_to_instance
class Unprocessable(AppError):
    """Well-formed, but it cannot be done as asked (an idempotency key reused for another
    request)."""
    status = 422
    default_code = "unprocessable"


@deserialize_to_instance
class TooLarge(AppError):
    status = 413
    default_code = "body_too_large"


@deserialize_to_instance
class TooManyRequests(AppError):
    """A rate limit was hit; `details["retry_after"]` seconds until it lets the caller in."""
    status = 429
    default_code = "rate_limited"

    def __init__(self, code=None, message="", details=None):
        details = dict(details or {})
        if "retry_after" in details:  # Nameko sends numbers in an error's args as text
            details["retry_after"] = int(details["retry_after"])
        super().__init__(code, message, details)

    def headers(self):
        return {"Retry-After": str(self.details.get("retry_after", 1))}


@deserialize_to_instance
class Unavailable(AppError):
    """A service did not answer in time or is not running."""
    status = 503
    default_code = "service_unavailable"
