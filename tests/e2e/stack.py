"""The whole stack as `./dev up` runs it: topology, migrations, every process of
deploy/Procfile, the demo seed; but on PostgreSQL and the test vhost, with each
process started on its own so a test can kill and restart one."""
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from plumbing import settings

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = f"http://127.0.0.1:{settings.PORTS['gateway']}"


def procfile():
    lines = (ROOT / "deploy" / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


BACKENDS = ("postgresql", "sqlite")


class Stack:
    """`backend` "postgresql" uses the test databases; "sqlite" leaves the services on
    their embedded default, SQLite files under this stack's own var/ (as `./dev up`)."""

    def __init__(self, log_dir, backend="postgresql", **extra_env):
        self.log_dir = Path(log_dir)
        self.backend = backend
        inherited = {name: value for name, value in os.environ.items()
                     if backend == "postgresql" or not name.endswith("_DATABASE_URL")}
        self.env = {**inherited, "PINTUAN_ENV": "test", "PINTUAN_DEMO_SHOP": "1",
                    "PINTUAN_VAR_DIR": str(self.log_dir / "var"), "PYTHONPATH": str(ROOT),
                    "PYTHONWARNINGS": "ignore", **extra_env}
        self.commands = {name: shlex.split(cmd.strip()) for name, cmd in procfile().items()}
        self.processes = {}

    def prepare(self):
        for step in (["-m", "plumbing.topology"], ["-m", "plumbing.migrate"]):
            subprocess.run([sys.executable, *step], env=self.env, cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)

    def start(self, name, **extra_env):
        command = self.commands[name]
        if command[0] == "python":
            command = [sys.executable, *command[1:]]
        log = open(self.log_dir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(command, cwd=ROOT, env={**self.env, **extra_env},
                                                stdout=log, stderr=subprocess.STDOUT)

    def start_replica(self, name, port, **extra_env):
        """A second process of the same service (its probes on another port)."""
        replica = f"{name}-replica"
        self.commands[replica] = self.commands[name]
        self.start(replica, **{f"{name.upper()}_PORT": str(port), **extra_env})
        return replica

    def start_all(self):
        for name in self.commands:
            self.start(name)
        self.wait_healthy(list(self.commands))

    def seed(self):
        subprocess.run([sys.executable, "deploy/seed_demo.py"], env=self.env, cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)

    def health_url(self, name):
        return f"http://127.0.0.1:{settings.PORTS[name.split('-')[0]]}/health"

    def wait_healthy(self, names, timeout=60):
        deadline = time.monotonic() + timeout
        pending = set(names)
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                try:
                    if requests.get(self.health_url(name), timeout=1).status_code == 200:
                        pending.discard(name)
                except requests.RequestException:
                    pass
            time.sleep(0.2)
        if pending:
            raise RuntimeError(f"not healthy after {timeout}s: {sorted(pending)}; "
                               f"see logs in {self.log_dir}")

    def kill(self, name, sig=signal.SIGKILL):
        process = self.processes.pop(name)
        process.send_signal(sig)
        process.wait(timeout=20)

    def wait_exit(self, name, timeout=30):
        return self.processes.pop(name).wait(timeout=timeout)

    def stop_all(self):
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
