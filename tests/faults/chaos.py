"""The faults a run injects, one at a time, in turn: kill -9 of each service process
(and of the gateway) followed by a restart, a restart of RabbitMQ, a restart of
PostgreSQL. Lost and delayed payment callbacks run all the time, through the
sandbox's own settings (see runner.STACK_ENV).

Each fault waits until what it broke is healthy again and records how long that
took, so the report shows the outage every fault caused.
"""
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from kombu import Connection

from plumbing import settings

KILLABLE = ("gateway", "accounts", "catalog", "teams", "orders", "payments", "notify",
            "reviews")


@dataclass
class Injected:
    at: float  # seconds since the run started
    fault: str
    recovered_after: float  # seconds until healthy again
    ok: bool = True


def plan():
    """The faults in the order they are injected, repeated for as long as the run lasts.
    PINTUAN_FAULT_SKIP_INFRA=1 leaves RabbitMQ and PostgreSQL alone: for a run beside
    other test sessions on the same machine, which a restart would disturb."""
    kills = [f"kill -9 {name}" for name in KILLABLE]
    if os.environ.get("PINTUAN_FAULT_SKIP_INFRA") == "1":
        return kills
    return [*kills, "restart rabbitmq", "restart postgresql"]


class Chaos:
    def __init__(self, stack, started):
        self.stack = stack
        self.started = started
        self.injected = []

    def inject(self, fault):
        began = time.monotonic()
        ok = True
        try:
            if fault.startswith("kill -9 "):
                self._kill_and_restart(fault.split()[-1])
            elif fault == "restart rabbitmq":
                _restart_rabbitmq()
            elif fault == "restart postgresql":
                _restart_postgresql()
            self.stack.wait_healthy(list(self.stack.processes), timeout=120)
        except Exception as exc:  # a fault that does not heal is itself a finding
            ok = False
            fault = f"{fault} (did not heal: {exc})"
        self.injected.append(Injected(round(began - self.started, 1), fault,
                                      round(time.monotonic() - began, 1), ok))

    def _kill_and_restart(self, name):
        self.stack.kill(name)
        time.sleep(1.0)  # long enough for callers to notice it is gone
        self.stack.start(name)


def _restart_rabbitmq():
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True)
    time.sleep(2.0)
    subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True)
    _wait(lambda: _amqp_ok(), 60, "RabbitMQ")


def _restart_postgresql():
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart",
                    "-m", "fast"], check=True, capture_output=True)
    _wait(lambda: subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode
          == 0, 60, "PostgreSQL")


def _amqp_ok():
    try:
        with Connection(settings.amqp_uri(), connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def _wait(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not come back within {timeout}s")
