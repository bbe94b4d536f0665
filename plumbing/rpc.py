"""Calls to other services that give up after a timeout.

Nameko 2.14's RpcProxy waits forever for a reply; a dead callee would hang the
caller's worker. Here each call is bounded and turns into `Unavailable` when the
callee does not answer (or is not running at all).
"""
import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy, ServiceProxy

from plumbing import settings
from plumbing.entrypoints import BROKER_ERRORS
from plumbing.errors import Unavailable


class _TimedMethod:
    def __init__(self, method_proxy, timeout):
        self._method = method_proxy
        self._timeout = timeout

    def __call__(self, *args, **kwargs):
        return self.call_async(*args, **kwargs).result()

    def call_async(self, *args, **kwargs):
        """Sends the call now; `.result()` waits for it, bounded like a plain call. For
        calls that do not depend on each other, sent together."""
        service = self._method.service_name
        try:
            return _TimedReply(self._method.call_async(*args, **kwargs), service, self._timeout)
        except UnknownService:
            raise Unavailable(message=f"The {service} service is not running.")
        except BROKER_ERRORS:  # RabbitMQ down or restarting: the caller may retry
            raise Unavailable("broker_unavailable", "The message broker is not reachable.")


class _TimedReply:
    def __init__(self, reply, service, timeout):
        self._reply, self._service, self._timeout = reply, service, timeout

    def result(self):
        try:
            with eventlet.Timeout(self._timeout):
                return self._reply.result()
        except eventlet.Timeout:
            raise Unavailable("service_timeout", f"The {self._service} service did not "
                                                 f"answer within {self._timeout:g}s.")


class _TimedService:
    def __init__(self, proxy, timeout):
        self._proxy = proxy
        self._timeout = timeout

    def __getattr__(self, name):
        return _TimedMethod(getattr(self._proxy, name), self._timeout)


class RemoteService(RpcProxy):
    """`catalog = RemoteService("catalog")`, then `self.catalog.reserve_stock(...)`."""

    def __init__(self, target_service, timeout=None, **options):
        super().__init__(target_service, **options)
        self.timeout = timeout

    def get_dependency(self, worker_ctx):
        proxy = ServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                             **self.options)
        return _TimedService(proxy, self.timeout or settings.rpc_timeout())
