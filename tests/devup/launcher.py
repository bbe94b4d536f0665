"""`./dev up` itself, started as a user starts it: a job of its own (process group), on a
vhost, data directory and ports of its own, with SQLite (the default)."""
import contextlib
import os
import signal
import subprocess
import time
import uuid
import zlib
from pathlib import Path

import pytest
import requests

from conftest import TEST_NAMESPACE

ROOT = Path(__file__).resolve().parents[2]
# Settings the test session gave itself that `./dev up` must not inherit (it runs on SQLite).
NOT_INHERITED = ("PINTUAN_ENV", "PINTUAN_PORT_OFFSET", "PINTUAN_MEDIA_DIR", "PINTUAN_FAULT",
                 "PINTUAN_SLOW_START_SECONDS")


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, timeout=60)


def fresh_vhost(name):
    rabbitmqctl("delete_vhost", name)
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")


def ports_free(offset):
    import socket
    for port in range(8000 + offset, 8009 + offset):  # gateway 8000 ... reviews 8008
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                return False
    return True


def free_offset():
    """A port offset (a multiple of 10, ports 10000 and up) whose ports (one a process) are free."""
    start = 2000 + zlib.crc32(TEST_NAMESPACE.encode()) % 200 * 10
    return next(offset for offset in range(start, start + 5000, 10) if ports_free(offset))


class DevUp:
    def __init__(self, directory, vhost, **env):
        self.dir = Path(directory)
        self.var = self.dir / "var"
        self.vhost = vhost
        self.offset = free_offset()
        self.env = {key: value for key, value in os.environ.items()
                    if key not in NOT_INHERITED and not key.endswith(("_DATABASE_URL", "_PORT",
                                                                      "_HEALTH_URL"))}
        self.env.update({
            "PINTUAN_AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}",
            "PINTUAN_PORT_OFFSET": str(self.offset), "PINTUAN_VAR_DIR": str(self.var),
            "PINTUAN_REDIS_PREFIX": f"{vhost}-{uuid.uuid4().hex[:8]}", **env})
        self.process = None
        self.out, self.err = self.dir / "stdout", self.dir / "stderr"

    @property
    def api(self):
        return f"http://127.0.0.1:{8000 + self.offset}"

    def port(self, offset_from_gateway):
        return 8000 + self.offset + offset_from_gateway

    def start(self):
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.process = subprocess.Popen(["./dev", "up"], cwd=ROOT, env=self.env, stdout=out,
                                            stderr=err, start_new_session=True)
        return self

    def run(self, *command, timeout=120):
        """Another command with this stack's settings (`./dev reset`, a second `./dev up`), as
        a job of its own; whatever it started is stopped by `stop()`."""
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
        return subprocess.CompletedProcess(command, process.returncode, out, err)

    def stdout(self):
        return self.out.read_text()

    def stderr(self):
        return self.err.read_text()

    def wait_running(self, timeout=240):
        """Returns once `./dev up` says the shop runs; fails if it exits first."""
        deadline = time.monotonic() + timeout
        while "Pintuan is running" not in self.stdout():
            if self.process.poll() is not None:
                pytest.fail(f"./dev up exited {self.process.returncode}:\n{self.stdout()}\n{self.stderr()}")
            if time.monotonic() > deadline:
                pytest.fail(f"./dev up not running after {timeout}s:\n{self.stdout()}\n{self.stderr()}")
            time.sleep(0.2)

    def login(self, staff):
        answer = requests.post(f"{self.api}/admin/v1/auth/login", timeout=15,
                               json={"username": staff, "password": "demo-password"})
        assert answer.status_code == 200, answer.text
        return answer.json()["token"]

    def kill(self, pid, sig):
        os.kill(pid, sig)

    def wait_exit(self, timeout=60):
        return self.process.wait(timeout=timeout)

    def interrupt(self):
        """Ctrl-C in its terminal: SIGINT to the job's whole process group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def processes(self):
        """{pid: command line} of every live process of this stack, found by its data directory
        in their environment (so a process that escaped its group or parent is found too)."""
        marker = f"PINTUAN_VAR_DIR={self.var}".encode()
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:  # gone meanwhile, or not ours to read
                pass
        return found

    def stop(self):
        """Whatever happened in the test, no process of this stack outlives it."""
        if self.process is not None and self.process.poll() is None:
            self.interrupt()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@contextlib.contextmanager
def stack_of(tmp_path_factory, name, **env):
    """A DevUp on a fresh vhost of its own; stopped (every process) and its vhost removed after."""
    vhost = f"{TEST_NAMESPACE}_devup_{name}"
    fresh_vhost(vhost)
    stack = DevUp(tmp_path_factory.mktemp(f"devup-{name}"), vhost, **env)
    try:
        yield stack
    finally:
        stack.stop()
        rabbitmqctl("delete_vhost", vhost)


def get(url, **kwargs):
    return requests.get(url, timeout=15, **kwargs)
