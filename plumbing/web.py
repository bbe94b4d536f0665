"""JSON over HTTP: the entrypoint every service's probes and the gateway use.

Every error leaves as `{"error": {"code", "message"}}`: typed `AppError`s with
their own status, werkzeug's routing errors (unknown route 404, wrong method
405, body too large 413) converted, anything unexpected a 500 that hides the
internals. The request id comes from `X-Request-Id` or is made here, and goes
back in the response.
"""
import json
import logging
from functools import partial

from eventlet.event import Event
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from plumbing import logs, settings
from plumbing.entrypoints import _commit_then
from plumbing.errors import AppError, TooLarge

log = logging.getLogger(__name__)
MAX_BODY_BYTES = int(settings.env("PINTUAN_MAX_BODY_BYTES", str(1024 * 1024)))


def json_response(payload, status=200, headers=None):
    return Response(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                    status=status, headers=headers, mimetype="application/json")


def error_response(status, code, message, details=None):
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return json_response({"error": body}, status=status)


HTTP_ERROR_CODES = {404: "route_not_found", 405: "method_not_allowed", 413: "body_too_large"}


def from_http_exception(exc):
    code = HTTP_ERROR_CODES.get(exc.code, exc.name.lower().replace(" ", "_"))
    response = error_response(exc.code, code, exc.description or exc.name)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


class JsonWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        request.max_content_length = MAX_BODY_BYTES
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = from_http_exception(exc)
        return response(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)

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
        result, exc_info = _commit_then(worker_ctx, result, exc_info)
        done.send((result, exc_info))
        return result, exc_info

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, payload = result if isinstance(result, tuple) else (200, result)
        return json_response(payload, status=status)

    def response_from_exception(self, exc):
        if isinstance(exc, AppError):
            response = error_response(exc.status, exc.code, exc.message, exc.details)
            response.headers.extend(exc.headers())
            return response
        if isinstance(exc, HTTPException):
            return from_http_exception(exc)
        log.error("unexpected error answering HTTP", exc_info=exc)
        return error_response(500, "internal_error", "Something went wrong on our side.")


http = JsonHttp.decorator
