"""Who emits which declared event and who listens to it, read from the code itself.

Listeners are read from the services' classes (each `@event_handler(events.X)` marks its
method with the class it handles); emitters by reading each service's source for
`events.X(...)`, the only way an event is built. `problems()` lists what does not fit:
a handler of an event that is not declared or that no service emits, a declared event no
service emits, an event built by a service that is not its source.
"""
import ast
import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path

from contract import events
from plumbing import settings

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Handler:
    service: str
    method: str
    handles: type


def declared():
    """Every event class in contract.events, by (source, name)."""
    found = {}
    for value in vars(events).values():
        if inspect.isclass(value) and issubclass(value, events.Event) and \
                value is not events.Event and hasattr(value, "source"):
            found[(value.source, value.name)] = value
    return found


def service_class(service):
    module = importlib.import_module(f"services.{service}.service")
    for value in vars(module).values():
        if inspect.isclass(value) and getattr(value, "name", None) == service:
            return value
    raise LookupError(f"services.{service}.service has no service class named {service!r}")


def handlers(services=settings.SERVICES):
    found = []
    for service in services:
        for method, fn in inspect.getmembers(service_class(service), inspect.isfunction):
            if hasattr(fn, "handles"):
                found.append(Handler(service, method, fn.handles))
    return found


def emitted(services=settings.SERVICES):
    """{event class name: {services whose code builds it}}."""
    found = {}
    for service in services:
        for path in sorted((ROOT / "services" / service).rglob("*.py")):
            if "tests" in path.relative_to(ROOT).parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                        isinstance(node.func.value, ast.Name) and node.func.value.id == "events":
                    found.setdefault(node.func.attr, set()).add(service)
    return found


def rpc_calls(services=settings.SERVICES + ("gateway",)):
    """{(caller, callee): {methods}}: every `self.<proxy>.<method>(...)` (or its
    `.call_async(...)`) whose proxy is a
    `RemoteService("<callee>")` declared in the caller's code, read from the source."""
    found = {}
    for caller in services:
        folder = ROOT / ("gateway" if caller == "gateway" else f"services/{caller}")
        trees = [ast.parse(path.read_text(), str(path)) for path in sorted(folder.rglob("*.py"))
                 if "tests" not in path.relative_to(ROOT).parts]
        proxies = {name: service for tree in trees for name, service in _proxies(tree).items()}
        for tree in trees:
            for node in ast.walk(tree):
                called = _proxy_call(node, proxies)
                if called is not None:
                    found.setdefault((caller, proxies[called[0]]), set()).add(called[1])
    return found


def _proxy_call(node, proxies):
    """(proxy, method) of `self.<proxy>.<method>(...)` or `self.<proxy>.<method>.call_async(...)`."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    method = node.func
    if method.attr == "call_async" and isinstance(method.value, ast.Attribute):
        method = method.value
    proxy = method.value
    if isinstance(proxy, ast.Attribute) and isinstance(proxy.value, ast.Name) and \
            proxy.value.id == "self" and proxy.attr in proxies:
        return proxy.attr, method.attr
    return None


def _proxies(tree):
    """{attribute: service} of `attribute = RemoteService("service")` in a module."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                getattr(node.value.func, "id", None) == "RemoteService" and node.value.args and \
                isinstance(node.value.args[0], ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.args[0].value
    return found


def problems(found_handlers=None, found_emitted=None, declared_events=None):
    found_handlers = handlers() if found_handlers is None else found_handlers
    found_emitted = emitted() if found_emitted is None else found_emitted
    declared_events = declared() if declared_events is None else declared_events
    declared_classes = set(declared_events.values())
    names = {cls.__name__: cls for cls in declared_classes}
    found = []
    for handler in found_handlers:
        where = f"{handler.service}.{handler.method}"
        if handler.handles not in declared_classes:
            found.append(f"{where} handles {handler.handles.__name__}, which contract.events "
                         f"does not declare")
        elif handler.handles.source not in found_emitted.get(handler.handles.__name__, ()):
            found.append(f"{where} handles {handler.handles.key()}, which "
                         f"{handler.handles.source} never emits")
    for cls in sorted(declared_classes, key=lambda c: c.key()):
        if cls.__name__ not in found_emitted:
            found.append(f"{cls.key()} is declared but no service emits it")
    for name, services in sorted(found_emitted.items()):
        cls = names.get(name)
        strangers = sorted(services - {cls.source}) if cls is not None else []
        if strangers:
            found.append(f"{', '.join(strangers)} build(s) {cls.key()}, which only "
                         f"{cls.source} may emit")
    return found


def listeners_of(cls, found_handlers=None):
    found_handlers = handlers() if found_handlers is None else found_handlers
    return [h for h in found_handlers if h.handles is cls]
