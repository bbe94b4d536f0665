"""`./dev up`: the local run, from a fresh clone, the same every time.

Checks RabbitMQ, refuses to share its vhost with a running stack, declares the queues,
migrates, starts every process of deploy/Procfile under honcho, waits until each one
answers an RPC ping and its own /health, seeds the demo shop and prints where it runs.
Whatever fails is said in one line, and every process it started is stopped: after a
failed step, on Ctrl-C or SIGTERM, and when one process dies.
"""
import logging
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
import seed_demo  # deploy/, beside this file
from amqp.exceptions import NotAllowed
from honcho.environ import parse_procfile
from honcho.manager import Manager
from honcho.printer import Printer
from kombu import Connection
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from plumbing import migrate, settings, topology, vhost
from plumbing.probes import broker_address, database_name

PROCFILE = settings.ROOT / "deploy" / "Procfile"


class Failed(Exception):
    """A step that did not work; its message is the one line the user is shown."""


def say(line):
    print(line, flush=True)


def brief(exc):
    """An exception as the first line of what it says, never a traceback."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def shown(path):
    """A path as the user would type it: relative to the checkout when inside it."""
    try:
        return str(path.relative_to(settings.ROOT))
    except ValueError:
        return str(path)


# --- before anything starts -----------------------------------------------------------

def prepare(names):
    if settings.is_production():
        raise Failed("./dev up is the local run with demo data; PINTUAN_ENV=production is refused")
    amqp_uri = settings.amqp_uri()
    host, vhost_name = broker_address(amqp_uri)
    check_broker(amqp_uri, host, vhost_name)
    refuse_beside_running_stack(amqp_uri, vhost_name, names)
    check_ports_free(names)
    say(f"RabbitMQ at {host}, vhost {vhost_name}: declared {len(topology.declare_all(amqp_uri))} "
        "event queues")
    for service in settings.SERVICES:
        try:
            migrate.upgrade(service)
        except Exception as exc:
            raise Failed(f"migrating {service} ({database_name(settings.database_url(service))}) "
                         f"failed: {brief(exc)}")
    say(f"migrated {len(settings.SERVICES)} databases under {shown(settings.var_dir())}")


def check_broker(amqp_uri, host, vhost_name):
    try:
        with Connection(amqp_uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except NotAllowed:
        raise Failed(f"RabbitMQ at {host} has no vhost {vhost_name!r} (or guest may not use it); "
                     f"make it with: rabbitmqctl add_vhost {vhost_name} && rabbitmqctl "
                     f"set_permissions -p {vhost_name} guest '.*' '.*' '.*'")
    except Exception as exc:
        raise Failed(f"RabbitMQ is not reachable at {host}, vhost {vhost_name} ({brief(exc)}); "
                     "start it with: rabbitmq-server -detached")


def refuse_beside_running_stack(amqp_uri, vhost_name, names):
    running = vhost.answering_services(amqp_uri, names)
    other = "pintuan3" if vhost_name == "pintuan2" else "pintuan2"
    if running:
        raise Failed(
            f"a Pintuan stack already runs on RabbitMQ vhost {vhost_name!r} ({', '.join(running)} "
            "answer there); two stacks on one vhost answer each other's requests from the wrong "
            "databases. Stop it, or give this one a vhost, ports and data of its own: "
            f"rabbitmqctl add_vhost {other} && rabbitmqctl set_permissions -p {other} "
            f"guest '.*' '.*' '.*' && PINTUAN_AMQP_URI={other_vhost_uri(amqp_uri, other)} "
            "PINTUAN_PORT_OFFSET=100 PINTUAN_VAR_DIR=var/second ./dev up")


def other_vhost_uri(amqp_uri, vhost_name):
    """The same broker with another vhost; a password other than the default is not echoed."""
    conn = Connection(amqp_uri)
    password = conn.password if conn.password == "guest" else "PASSWORD"
    return (f"{conn.transport_cls}://{conn.userid}:{password}@{conn.hostname}:"
            f"{conn.port or conn.transport.default_port}/{vhost_name}")


def port_of(name):
    return int(settings.web_address(name).rsplit(":", 1)[1])


def check_ports_free(names):
    for name in names:
        host = settings.web_address(name).rsplit(":", 1)[0]
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the services bind
            try:
                sock.bind((host, port_of(name)))
            except OSError:
                raise Failed(f"port {port_of(name)} ({name}) is already in use; stop what listens "
                             "there, or move every port: PINTUAN_PORT_OFFSET=100 ./dev up")


# --- the processes ----------------------------------------------------------------------

class LogFiles(Printer):
    """Each process's output goes to <var>/log/<name>.log (honcho's own notes to up.log):
    the terminal shows only what the launcher says."""

    def __init__(self, directory, names):
        super().__init__()
        directory.mkdir(parents=True, exist_ok=True)
        self.files = {name: open(directory / f"{name}.log", "wb") for name in names}
        self.files["system"] = open(directory / "up.log", "wb")

    def write(self, message):
        data = message.data if isinstance(message.data, bytes) else message.data.encode()
        log = self.files[message.name]
        log.write(data)
        log.flush()


class _Watched:
    """The manager's event queue as one process's watcher thread sees it: the launcher
    learns of a start and an exit before honcho's loop does."""

    def __init__(self, events, on_start, on_exit):
        self.events, self.on_start, self.on_exit = events, on_start, on_exit

    def put(self, message):
        if message.type == "start":
            self.on_start(message.name, message.data["pid"])
        elif message.type == "stop":
            self.on_exit(message.name, message.data["returncode"])
        self.events.put(message)


class Processes(Manager):
    """honcho's Manager, watching each process from a thread of this one rather than from
    a forked helper: Ctrl-C, which a terminal sends to the whole foreground group, then
    reaches only this process (the services run in sessions of their own), and it stops
    them all. If one exits, honcho stops the others.

    honcho learns a pid only when its loop reads the start message; a stop asked for
    before that would fail on the missing pid and leave the process running. Here the
    pids are known as soon as each process starts, and one that starts after the stop was
    asked for is stopped at once."""

    def __init__(self, printer):
        super().__init__(printer)
        self.stopping = threading.Event()
        self.died = None  # (name, returncode) of the first process that exited unasked
        self._lock = threading.RLock()  # RLock: a signal may arrive while the loop holds it
        self._pids, self._exited = {}, set()

    def _start(self):
        for name, entry in self._processes.items():
            events = _Watched(self.events, self._on_start, self._on_exit)
            entry["process"] = threading.Thread(target=entry["obj"].run, args=(events, False),
                                                name=name, daemon=True)
            entry["process"].start()

    def _on_start(self, name, pid):
        with self._lock:
            self._pids[name] = pid
            late = self.stopping.is_set()
        if late:
            self._procmgr.terminate(pid)

    def _on_exit(self, name, returncode):
        with self._lock:
            self._exited.add(name)
            if not self.stopping.is_set() and self.died is None:
                self.died = (name, returncode)

    def terminate(self):
        with self._lock:
            self.stopping.set()
        super().terminate()

    def _killall(self, force=False):
        with self._lock:
            running = {name: pid for name, pid in self._pids.items() if name not in self._exited}
        for name, pid in running.items():
            self._system_print(f"sending {'SIGKILL' if force else 'SIGTERM'} to {name} (pid {pid})\n")
            (self._procmgr.kill if force else self._procmgr.terminate)(pid)


def exit_status(returncode):
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    if returncode > 128 and returncode - 128 in signal.valid_signals():
        return f"killed by {signal.Signals(returncode - 128).name}"
    return f"exit code {returncode}"


class Stack:
    def __init__(self, processes):
        self.names = list(processes)
        self.log_dir = settings.var_dir() / "log"
        self.manager = Processes(LogFiles(self.log_dir, self.names))
        for name, command in processes.items():  # exec: the process itself is honcho's child
            self.manager.add_process(name, f"exec {command}", cwd=str(settings.ROOT))
        self.failure = None

    def run(self):
        say(f"starting {', '.join(self.names)} (logs in {shown(self.log_dir)}/)")
        threading.Thread(target=self.bring_up, name="bring-up", daemon=True).start()
        self.manager.loop()
        if self.failure:
            return failed(self.failure)
        if self.manager.died:
            name, returncode = self.manager.died
            return failed(f"{name} exited unexpectedly ({exit_status(returncode)}; see "
                          f"{shown(self.log_dir / (name + '.log'))})")
        say("stopped every process")
        return 0

    def bring_up(self):
        try:
            self.wait_until_answering()
            if self.manager.stopping.is_set():
                return
            try:
                seeded = seed_demo.seed()
            except Exception as exc:
                raise Failed(f"seeding the demo shop failed: {brief(exc)}")
            if not self.manager.stopping.is_set():
                say(seeded)
                say(self.urls())
        except Failed as failure:
            self.fail(str(failure))
        except Exception as exc:
            self.fail(f"waiting for the processes failed: {brief(exc)}")

    def fail(self, reason):
        if not self.manager.stopping.is_set():  # a stop asked for, or a death, speaks first
            self.failure = reason
            self.manager.terminate()

    def wait_until_answering(self):
        """Every process answers an RPC ping and its /health, from this stack's own
        databases (another stack's replica on the vhost would answer from its own)."""
        deadline = time.monotonic() + settings.start_timeout_seconds()
        with ThreadPoolExecutor(len(self.names)) as pool:  # a silent one costs a timeout each try
            problems = dict(zip(self.names, pool.map(lambda name: self.wait_for(name, deadline),
                                                     self.names)))
        waiting = {name: problem for name, problem in problems.items() if problem}
        if waiting and not self.manager.stopping.is_set():
            raise Failed(f"not ready after {settings.start_timeout_seconds():g}s: " + ", ".join(
                f"{name} ({problem}; see {shown(self.log_dir / (name + '.log'))})"
                for name, problem in waiting.items()))

    def wait_for(self, name, deadline):
        """None once `name` is ready; else what was still wrong at the deadline."""
        with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri()}, timeout=1) as rpc:
            while not self.manager.stopping.is_set():
                try:
                    problem = self.not_ready(rpc, name)
                except Failed as failure:
                    self.fail(str(failure))
                    return None
                if problem is None or time.monotonic() > deadline:
                    return problem
                time.sleep(0.2)
        return None

    def not_ready(self, rpc, name):
        """What keeps `name` from being ready, or None."""
        database = own_database(name)
        try:
            pong = getattr(rpc, name).ping()
        except (UnknownService, RpcTimeout):
            return "no answer to an RPC ping"
        if pong["database"] != database:
            raise Failed(f"{name} answered from {pong['database']}, not {database}: another stack "
                         f"runs on vhost {pong['vhost']!r}")
        try:
            health = requests.get(f"http://127.0.0.1:{port_of(name)}/health", timeout=2)
            body = health.json()
        except (requests.RequestException, ValueError):
            return f"no answer on port {port_of(name)}"
        if body.get("database") != database:
            return f"port {port_of(name)} answers for {body.get('database')}"
        return None if health.status_code == 200 else f"/health {health.status_code} {body.get('checks')}"

    def urls(self):
        base = f"http://127.0.0.1:{port_of('gateway')}"
        health = ", ".join(f"{name} {port_of(name)}" for name in self.names if name != "gateway")
        host, vhost_name = broker_address(settings.amqp_uri())
        return "\n".join([
            "",
            "  Pintuan is running (Ctrl-C stops everything).",
            f"    gateway   {base}   (OpenAPI: {base}/openapi.json)",
            f"    health    http://127.0.0.1:<port>/health and /metrics: {health}",
            "    demo merchant: demo-merchant / demo-password    demo ops: demo-ops / demo-password",
            f"    data      {shown(settings.var_dir())} (SQLite; ./dev reset empties it), "
            f"RabbitMQ {host} vhost {vhost_name}",
            f"    logs      {shown(self.log_dir)}/<process>.log",
            ""])


def own_database(name):
    return database_name(settings.database_url(name)) if name in settings.SERVICES else None


def failed(reason):
    print(f"./dev up: {reason}; every process it started is stopped", file=sys.stderr, flush=True)
    return 1


class StopAsked(Exception):
    """SIGINT or SIGTERM before honcho's loop took the signals over: nothing runs yet."""


def stop_asked(signum, frame):
    raise StopAsked()


def main():
    logging.getLogger("amqp").setLevel(logging.ERROR)  # its notes on refused pings are noise here
    signal.signal(signal.SIGINT, stop_asked)
    signal.signal(signal.SIGTERM, stop_asked)
    os.environ.setdefault("PINTUAN_ENV", "dev")
    os.environ["PINTUAN_DEMO_SHOP"] = "1"
    processes = parse_procfile(PROCFILE.read_text()).processes
    stack = None
    try:
        prepare(list(processes))
        stack = Stack(processes)
        return stack.run()
    except Failed as failure:
        print(f"./dev up: {failure}", file=sys.stderr, flush=True)
        return 1
    except StopAsked:
        if stack:  # its waiting threads give up
            stack.manager.stopping.set()
        say("stopped before any process started")
        return 0


if __name__ == "__main__":
    sys.exit(main())
