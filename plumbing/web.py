"""JSON over HTTP: the entrypoint every service's probes and the gateway use.

Every error leaves as `{"error": {"code", "message"}}`, from wherever it comes:
- eventlet's HTTP parser (before any application code runs): an over-long request
  line (414 `uri_too_long`), over-long or too many headers (431 `headers_too_large`),
  a malformed request line (400 `bad_request_line`), a Content-Length that is not a
  number or comes with Transfer-Encoding (400 `invalid_content_length`);
- the WSGI application: a malformed Host header (400 `invalid_host`), NUL in the path,
  query or headers (400 `nul_character`), routing errors (404, 405, 413), a chunked body
  that is over the limit (413) or broken (400 `invalid_chunked_body`);
- the entrypoint: typed `AppError`s with their own status, a lost database connection
  (503 `database_unavailable`), anything unexpected a 500 that hides the internals.
The request id comes from `X-Request-Id` or is made here, and goes back in the response.
"""
import ipaddress
import json
import logging
import re
import socket
from functools import partial
from io import BytesIO
from urllib.parse import parse_qsl

from eventlet.event import Event
from eventlet.wsgi import HeaderLineTooLong, HeadersTooLarge
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from plumbing import logs, settings
from plumbing.entrypoints import answer_of, as_app_error
from plumbing.errors import AppError, BadRequest, TooLarge
from plumbing.validation import nul_character

log = logging.getLogger(__name__)
MAX_BODY_BYTES = int(settings.env("PINTUAN_MAX_BODY_BYTES", str(1024 * 1024)))
CLOSE_CONNECTION = "pintuan.close_connection"  # environ key: call it to end the connection


def json_body(code, message, details=None):
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return json.dumps({"error": body}, ensure_ascii=False, separators=(",", ":"))


def json_response(payload, status=200, headers=None):
    return Response(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                    status=status, headers=headers, mimetype="application/json")


def error_response(status, code, message, details=None):
    return Response(json_body(code, message, details), status=status,
                    mimetype="application/json")


HTTP_ERROR_CODES = {404: "route_not_found", 405: "method_not_allowed", 413: "body_too_large"}


def from_http_exception(exc):
    code = HTTP_ERROR_CODES.get(exc.code, exc.name.lower().replace(" ", "_"))
    response = error_response(exc.code, code, exc.description or exc.name)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


# --- what eventlet answers before the application runs ----------------------------------

REASONS = {400: "Bad Request", 414: "URI Too Long", 431: "Request Header Fields Too Large"}
LINGER_BYTES, LINGER_SECONDS = 256 * 1024, 1.0


class JsonHttpProtocol(HttpOnlyProtocol):
    """eventlet's HTTP/1.1 parser, with each refusal it makes on its own answered in
    the JSON error format instead of plain text, HTML or an empty body."""

    def _read_request_line(self):
        line = super()._read_request_line()
        if len(line) >= self.server.url_length_limit:
            self.refuse(414, "uri_too_long",
                        f"The request line is longer than {self.server.url_length_limit} bytes.")
            return b""  # eventlet closes the connection on an empty request line
        return line

    def parse_request(self):
        try:
            if not super().parse_request():
                return False
        except (HeaderLineTooLong, HeadersTooLarge):
            self.refuse(431, "headers_too_large", "The request headers are too large.")
            return False
        problem = framing_problem(self.headers)
        if problem:
            self.refuse(400, "invalid_content_length", problem)
            return False
        return True

    def send_error(self, code, message=None, explain=None):
        """Where the standard library answers a malformed request line (400, 505) or too
        many or too long headers (431)."""
        if code == 431:
            self.refuse(431, "headers_too_large", "The request has too many or too long headers.")
        else:
            self.refuse(400, "bad_request_line", "The request line is not METHOD PATH HTTP/1.1.")

    def get_environ(self):
        environ = super().get_environ()
        environ[CLOSE_CONNECTION] = partial(setattr, self, "close_connection", 1)
        return environ

    def refuse(self, status, code, message):
        """Answers and closes. It must never raise: an exception here would stop the
        whole service (Nameko runs this in a managed thread)."""
        self.close_connection = 1
        log.info("refused a request from %s: %s %s", self.client_address[0], status, code)
        body = json_body(code, message).encode()
        try:
            self.wfile.write(
                b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n%s" % (status, REASONS[status].encode(), len(body),
                                                   body))
            self.wfile.flush()
        except OSError:  # the client is gone
            return
        self._linger()

    def _linger(self):
        """Reads (a bounded amount of) what the client is still sending before the socket
        closes: closing on unread data resets the connection, and the client might lose
        the answer."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(LINGER_SECONDS)
            drained = 0
            while drained < LINGER_BYTES:
                chunk = self.connection.recv(16 * 1024)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass


def framing_problem(headers):
    """Why the body's length cannot be known, or None. eventlet would answer these in
    plain text, or read an unknown transfer coding as an empty body."""
    length = headers.get("Content-Length")
    coding = headers.get("Transfer-Encoding")
    if length is not None and not length.strip().isdigit():
        return "Content-Length must be a whole number of bytes."
    if coding is not None:
        if length is not None:
            return "Content-Length and Transfer-Encoding must not be sent together."
        if coding.strip().lower() != "chunked":
            return "The only Transfer-Encoding accepted is chunked."
    return None


# --- what the application checks before routing ------------------------------------------

HOST_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})")
HOST_PORT = re.compile(r"(?P<host>\[[^\]]*\]|[^:]*)(?::(?P<port>[0-9]{1,5}))?")


def is_valid_host(value):
    """A Host header is a name, an IPv4 or a [IPv6] address, and maybe a port."""
    match = HOST_PORT.fullmatch(value)
    if match is None or (match["port"] is not None and int(match["port"]) > 65535):
        return False
    host = match["host"]
    if host.startswith("["):
        try:
            return isinstance(ipaddress.ip_address(host[1:-1]), ipaddress.IPv6Address)
        except ValueError:
            return False
    return HOST_NAME.fullmatch(host) is not None


def refuse_before_routing(environ):
    """The request's own faults that no route should see, as an AppError, or None."""
    host = environ.get("HTTP_HOST")
    if host is not None and not is_valid_host(host):
        return BadRequest("invalid_host", "The Host header is not a valid host name and port.")
    if "\x00" in environ.get("PATH_INFO", ""):
        return nul_character("path")
    for name, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return nul_character(f"query.{name}")
    for key, value in environ.items():
        if key.startswith("HTTP_") and "\x00" in value:
            return nul_character(f"headers.{key[5:].replace('_', '-').title()}")
    return None


def is_chunked(environ):
    return environ.get("HTTP_TRANSFER_ENCODING", "").strip().lower() == "chunked"


def buffer_chunked_body(environ, limit):
    """A chunked body read whole (up to `limit`), then served like one with a
    Content-Length: werkzeug would otherwise take it as empty."""
    stream, parts, size = environ["wsgi.input"], [], 0
    try:
        while size <= limit:
            part = stream.read(min(64 * 1024, limit + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
    except (ValueError, OSError):  # eventlet's ChunkReadError is a ValueError
        raise BadRequest("invalid_chunked_body", "The chunked body is malformed.") from None
    if size > limit:
        # the rest is not read (it may never end): the connection cannot be reused
        environ.get(CLOSE_CONNECTION, lambda: None)()
        raise TooLarge(message=f"The body is larger than {limit} bytes.")
    environ["wsgi.input"] = BytesIO(b"".join(parts))
    environ["CONTENT_LENGTH"] = str(size)
    del environ["HTTP_TRANSFER_ENCODING"]


class JsonWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        try:
            response = self.respond(environ)
        except Exception:  # never eventlet's bare text/plain 500
            log.exception("unexpected error before the entrypoint")
            response = error_response(500, "internal_error", "Something went wrong on our side.")
        return response(environ, start_response)

    def respond(self, environ):
        refusal = refuse_before_routing(environ)
        if refusal is not None:
            return error_response(refusal.status, refusal.code, refusal.message, refusal.details)
        request = Request(environ, shallow=True)
        request.max_content_length = MAX_BODY_BYTES
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            return provider.handle_request(request)
        except HTTPException as exc:
            return from_http_exception(exc)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=JsonHttpProtocol, debug=False):
        return super().get_wsgi_server(sock, wsgi_app, protocol=protocol, debug=debug)

    def context_data_from_headers(self, request):
        return {logs.REQUEST_ID_KEY: request.headers.get("X-Request-Id") or logs.new_request_id()}


class JsonHttp(HttpRequestHandler):
    """`@http(method, url)`; the method returns a JSON-able value, a `(status, value)`
    pair, or a werkzeug Response."""
    server = JsonWebServer()

    def __init__(self, method, url, max_body_bytes=None, **kwargs):
        kwargs.setdefault("expected_exceptions", AppError)
        super().__init__(method, url, **kwargs)
        # An int, or a function read at request time (a setting tests may change);
        # None: the service-wide MAX_BODY_BYTES. Only upload routes need more.
        self.max_body_bytes = max_body_bytes

    def body_limit(self):
        limit = self.max_body_bytes
        return MAX_BODY_BYTES if limit is None else limit() if callable(limit) else limit

    def handle_request(self, request):
        request.shallow = False
        context_data = self.server.context_data_from_headers(request)
        try:
            limit = request.max_content_length = self.body_limit()
            if is_chunked(request.environ):
                buffer_chunked_body(request.environ, limit)
            if request.content_length and request.content_length > limit:
                raise TooLarge(message=f"The body is larger than {limit} bytes.")
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            done = Event()
            self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                        handle_result=partial(self._handle_result, done))
            result, exc_info = done.wait()
            response = self.response_from_exception(exc_info[1]) if exc_info else \
                self.response_from_result(result)
        except HTTPException as exc:
            response = from_http_exception(exc)
        except Exception as exc:
            response = self.response_from_exception(exc)
        response.headers["X-Request-Id"] = context_data[logs.REQUEST_ID_KEY]
        return response

    def _handle_result(self, done, worker_ctx, result, exc_info):
        result, exc_info = answer_of(worker_ctx, result, exc_info)
        done.send((result, exc_info))
        return result, exc_info

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, payload = result if isinstance(result, tuple) else (200, result)
        return json_response(payload, status=status)

    def response_from_exception(self, exc):
        exc = as_app_error(exc)
        if isinstance(exc, AppError):
            response = error_response(exc.status, exc.code, exc.message, exc.details)
            response.headers.extend(exc.headers())
            return response
        if isinstance(exc, HTTPException):
            return from_http_exception(exc)
        log.error("unexpected error answering HTTP", exc_info=exc)
        return error_response(500, "internal_error", "Something went wrong on our side.")


http = JsonHttp.decorator
