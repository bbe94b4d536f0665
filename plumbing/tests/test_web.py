"""The JSON HTTP entrypoint against hostile clients, on a real container and raw sockets:
what eventlet's parser would answer in plain text (or not at all), malformed Host
headers, NUL characters, chunked bodies, and a database that cannot be reached."""
import json
import socket

import pytest
import sqlalchemy as sa

from conftest import free_port
from plumbing import settings
from plumbing.db import Database
from plumbing.entrypoints import rpc
from plumbing.errors import Unavailable
from plumbing.web import http

NO_DATABASE = "postgresql+psycopg2://postgres@127.0.0.1:{port}/nowhere"


class Echo:
    name = "echo"

    @http("GET", "/ok")
    def ok(self, request):
        return {"ok": True}

    @http("POST", "/echo", max_body_bytes=64)
    def echo(self, request):
        return {"body": request.get_data(as_text=True)}

    @http("GET", "/things/<token>")
    def thing(self, request, token):
        return {"token": token}


@pytest.fixture
def echo(container_factory):
    address = f"127.0.0.1:{free_port()}"
    container = container_factory(Echo, {"WEB_SERVER_ADDRESS": address, "AMQP_URI": "memory://"})
    container.start()
    host, port = address.split(":")
    return host, int(port)


def exchange(server, raw):
    """Sends raw bytes, reads until the server closes: (status, headers, body)."""
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in
               (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def assert_json_error(answer, status, code):
    got_status, headers, body = answer
    assert (got_status, headers.get("content-type")) == (status, "application/json"), answer
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"]
    return error


def get(path=b"/ok", headers=b"Host: shop.example\r\n"):
    return b"GET " + path + b" HTTP/1.1\r\n" + headers + b"Connection: close\r\n\r\n"


HOSTILE = [
    ("request line over 8 KiB", get(b"/ok?q=" + b"a" * 9000), 414, "uri_too_long"),
    ("header line over 8 KiB", get(headers=b"X-Junk: " + b"a" * 9000 + b"\r\n"),
     431, "headers_too_large"),
    ("headers over 64 KiB", get(headers=b"".join(b"X-%d: %s\r\n" % (n, b"a" * 8000)
                                                 for n in range(9))), 431, "headers_too_large"),
    ("over 100 headers", get(headers=b"".join(b"X-%d: a\r\n" % n for n in range(120))),
     431, "headers_too_large"),
    ("no method and path", b"GARBAGE\r\n\r\n", 400, "bad_request_line"),
    ("four words", b"GET /ok HTTP/1.1 more\r\n\r\n", 400, "bad_request_line"),
    ("a bad version", b"GET /ok HTTP/9.x\r\n\r\n", 400, "bad_request_line"),
    ("HTTP/2 over a 1.1 connection", b"GET /ok HTTP/2.0\r\n\r\n", 400, "bad_request_line"),
    ("a negative Content-Length",
     b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, "invalid_content_length"),
    ("Content-Length and chunked", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
     b"Transfer-Encoding: chunked\r\n\r\nabc", 400, "invalid_content_length"),
    ("an unknown transfer coding", b"POST /echo HTTP/1.1\r\nHost: x\r\n"
     b"Transfer-Encoding: gzip\r\n\r\nabc", 400, "invalid_content_length"),
    ("an unclosed IPv6 Host", get(headers=b"Host: [::1\r\n"), 400, "invalid_host"),
    ("a Host port out of range", get(headers=b"Host: shop.example:99999999\r\n"),
     400, "invalid_host"),
    ("a Host with a path", get(headers=b"Host: evil.example/x@shop\r\n"), 400, "invalid_host"),
    ("a Host that is not ASCII", get(headers=b"Host: \xff\xfe\r\n"), 400, "invalid_host"),
    ("NUL in the path", get(b"/things/a%00b"), 400, "nul_character"),
    ("NUL in the query", get(b"/ok?q=a%00b"), 400, "nul_character"),
    ("NUL in a header", get(headers=b"Host: x\r\nIdempotency-Key: a\x00b\r\n"),
     400, "nul_character"),
]


@pytest.mark.parametrize("raw, status, code", [case[1:] for case in HOSTILE],
                         ids=[case[0] for case in HOSTILE])
def test_every_refusal_is_the_json_error_body_and_the_service_lives_on(echo, raw, status, code):
    assert_json_error(exchange(echo, raw), status, code)
    assert exchange(echo, get())[0] == 200


@pytest.mark.parametrize("host", [b"shop.example", b"shop.example:8443", b"127.0.0.1:8000",
                                  b"[::1]:8000", b"gateway", b"pintuan_gateway.svc.local."])
def test_well_formed_hosts_pass(echo, host):
    assert exchange(echo, get(headers=b"Host: " + host + b"\r\n"))[0] == 200


def test_the_nul_refusal_names_where_it_was(echo):
    error = assert_json_error(exchange(echo, get(headers=b"Host: x\r\nX-Key: \x00\r\n")),
                              400, "nul_character")
    assert list(error["details"]) == ["headers.X-Key"]


def chunked(*parts):
    body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"
    return (b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + body)


def test_a_chunked_body_is_read_not_taken_as_empty(echo):
    status, _, body = exchange(echo, chunked(b"hello ", b"chunked ", b"world"))
    assert (status, json.loads(body)) == (200, {"body": "hello chunked world"})


def test_a_chunked_body_over_the_limit_is_413(echo):
    assert_json_error(exchange(echo, chunked(b"x" * 40, b"y" * 40)), 413, "body_too_large")


def test_a_broken_chunked_body_is_400(echo):
    raw = (b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
    assert_json_error(exchange(echo, raw), 400, "invalid_chunked_body")


# --- a database that cannot be reached ---------------------------------------------------

class Stranded:
    name = "stranded"
    db = Database(relay=False)

    @rpc
    def count(self):
        return self.db.session.execute(sa.text("SELECT 1")).scalar()

    @rpc
    def lose_connection(self):
        """As when PostgreSQL restarts mid-transaction: the server ends this backend."""
        self.db.session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))

    @http("GET", "/count")
    def count_http(self, request):
        return {"count": self.count()}


@pytest.fixture
def stranded(container_factory, amqp_uri, monkeypatch):
    def start(database_url):
        monkeypatch.setenv("STRANDED_DATABASE_URL", database_url)
        address = f"127.0.0.1:{free_port()}"
        container = container_factory(Stranded, {"AMQP_URI": amqp_uri,
                                                 "WEB_SERVER_ADDRESS": address})
        container.start()
        host, port = address.split(":")
        return host, int(port)
    return start


def test_a_database_that_cannot_be_reached_is_a_typed_503(stranded, rpc):
    server = stranded(NO_DATABASE.format(port=free_port()))  # nothing listens there
    with pytest.raises(Unavailable) as raised:
        rpc.stranded.count()
    assert raised.value.code == "database_unavailable"
    assert_json_error(exchange(server, get(b"/count")), 503, "database_unavailable")


def test_a_connection_lost_mid_transaction_is_a_typed_503(stranded, rpc, migrated):
    stranded(settings.database_url("accounts"))  # a real PostgreSQL database
    with pytest.raises(Unavailable) as raised:
        rpc.stranded.lose_connection()
    assert raised.value.code == "database_unavailable"
    assert rpc.stranded.count() == 1  # the pool reconnects for the next call

