"""`./dev up` as a newcomer meets it: started from the command line with services slow to
start, it waits for every one, seeds the shop and prints where it runs; it refuses to share
its vhost; anything that fails stops every process it started, with one line saying why.

The tests on the module's `shop` run in order: the last ones stop it (Ctrl-C) and reset it.
"""
import io
import os
import re
import signal
import subprocess
import time

import pytest
import requests
from PIL import Image

from plumbing import topology, vhost
from tests.devup.launcher import ROOT, DevUp, get, stack_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SERVICES = ("accounts", "catalog", "teams", "orders", "payments", "promotions", "notify",
            "reviews")
HEALTH_PORT = {name: index for index, name in enumerate(("gateway",) + SERVICES)}
WALKTHROUGHS = ("A team from the command line", "A session with curl")


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    # catalog answers last: the seed used to call it as soon as the gateway answered
    with stack_of(tmp_path_factory, "shop", PINTUAN_SLOW_START_SECONDS="catalog=6,teams=3") as stack:
        stack.start().wait_running()
        yield stack


def one_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_it_waits_for_slow_services_then_seeds_the_demo_shop(shop):
    assert "demo shop ready" in shop.stdout()
    assert f"gateway   {shop.api}" in shop.stdout()
    assert shop.stderr() == ""
    listing = get(f"{shop.api}/api/v1/products", params={"page_size": 50}).json()
    assert listing["total"] >= 12
    group_buy = get(f"{shop.api}/api/v1/products", params={"group_buy": "true"}).json()
    assert group_buy["total"] == 3
    detail = get(f"{shop.api}/api/v1/products/{group_buy['items'][0]['id']}").json()
    assert detail["campaign"]["status"] == "active"


def test_every_process_names_its_own_database_and_vhost(shop):
    for name in SERVICES:
        health = get(f"http://127.0.0.1:{shop.port(HEALTH_PORT[name])}/health").json()
        assert health["database"] == f"sqlite:///{shop.var}/{name}.db"
        assert health["vhost"] == shop.vhost
    ops = shop.login("demo-ops")
    overview = get(f"{shop.api}/admin/v1/ops/health", headers={"Authorization": f"Bearer {ops}"})
    assert {item["service"]: item["database"] for item in overview.json()["services"]} == {
        name: f"sqlite:///{shop.var}/{name}.db" for name in SERVICES}


def test_a_second_stack_on_the_same_vhost_is_refused(shop, tmp_path):
    second = DevUp(tmp_path, shop.vhost)
    try:
        refused = second.run("./dev", "up", timeout=120)
        left = second.processes()
    finally:
        second.stop()
    assert refused.returncode == 1
    message = refused.stderr
    assert f"already runs on RabbitMQ vhost {shop.vhost!r}" in message
    assert "rabbitmqctl add_vhost pintuan2" in message
    assert "PINTUAN_AMQP_URI=pyamqp://guest:guest@127.0.0.1:5672/pintuan2" in message
    assert left == {}
    assert not list(second.var.glob("*.db"))
    assert get(f"{shop.api}/api/v1/products").json()["total"] >= 12  # the first one is unharmed


def test_reset_is_refused_while_the_stack_runs(shop):
    merchant = shop.login("demo-merchant")
    uploaded = requests.post(f"{shop.api}/admin/v1/images", timeout=15,
                             headers={"Authorization": f"Bearer {merchant}"},
                             files={"file": ("dot.png", png(), "image/png")})
    assert uploaded.status_code == 201, uploaded.text
    refused = shop.run("./dev", "reset")
    assert refused.returncode == 1
    assert "stop it first" in one_line(refused.stderr)
    assert get(f"{shop.api}/api/v1/products").json()["total"] >= 12
    assert get(shop.api + uploaded.json()["url"]).status_code == 200


def png():
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "orange").save(image, "PNG")
    return image.getvalue()


def readme_walkthroughs():
    readme = (ROOT / "README.md").read_text()
    return {title: re.search(re.escape(title) + r".*?```sh\n(.*?)```", readme, re.S).group(1)
            for title in WALKTHROUGHS}


def test_the_readme_walkthrough_runs_as_written_twice(shop):
    snippets = readme_walkthroughs()
    for _ in range(2):
        team = run_snippet(snippets["A team from the command line"], shop.api)
        assert team.splitlines()[0] == '{"team":"pending","order":"pending_payment"}'
        assert team.splitlines()[-2:] == ["SUCCESS", "awaiting_team"]
        session = run_snippet(snippets["A session with curl"], shop.api)
        published, found = session.splitlines()
        assert published == "published"
        assert '"title":"赣南脐橙 10斤装","price":3990' in found


def run_snippet(snippet, api):
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", snippet], capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "API": api})
    assert done.returncode == 0 and done.stderr == "", done
    return done.stdout


def test_ctrl_c_stops_every_process(shop):
    started = shop.processes()
    processes = len(("gateway",) + SERVICES)
    assert sum(command.startswith("python -m plumbing.run") for command in started.values()) == processes
    groups = {os.getpgid(pid) for pid in started}
    shop.interrupt()
    assert shop.wait_exit(60) == 0
    assert shop.stdout().rstrip().endswith("stopped every process")
    assert shop.processes() == {}
    for group in groups:
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)


def test_reset_empties_the_local_data(shop):
    amqp_uri = shop.env["PINTUAN_AMQP_URI"]
    queues = [queue.name for queue in topology.all_queues({"AMQP_URI": amqp_uri})]
    queues += [vhost.rpc_queue(name) for name in ("gateway",) + SERVICES]
    assert len(vhost.consumer_counts(amqp_uri, queues)) == len(queues)
    assert {"catalog.db", "media", "keys", "log"} <= {path.name for path in shop.var.iterdir()}
    reset = shop.run("./dev", "reset")
    assert reset.returncode == 0, reset.stderr
    assert one_line(reset.stdout).startswith("reset: ")
    assert sorted(path.name for path in shop.var.iterdir()) == ["keys", "log"]
    assert vhost.consumer_counts(amqp_uri, queues) == {}


# --- each of these on a stack of its own ------------------------------------------------

def test_a_service_dying_stops_everything_with_one_line(tmp_path_factory):
    with stack_of(tmp_path_factory, "dying") as stack:
        stack.start().wait_running()
        orders = [pid for pid, command in stack.processes().items()
                  if command.startswith("python -m plumbing.run orders")]
        assert len(orders) == 1
        stack.kill(orders[0], signal.SIGKILL)
        assert stack.wait_exit(60) == 1
        line = one_line(stack.stderr())
        assert line.startswith("./dev up: orders exited unexpectedly (killed by SIGKILL")
        assert line.endswith("every process it started is stopped")
        assert stack.processes() == {}


def test_a_failing_seed_stops_everything_with_one_line(tmp_path_factory):
    with stack_of(tmp_path_factory, "seed", PINTUAN_FAULT="seed_demo") as stack:
        assert stack.start().wait_exit(240) == 1
        assert one_line(stack.stderr()).startswith(
            "./dev up: seeding the demo shop failed: RuntimeError: the demo seed was told to fail")
        assert "Pintuan is running" not in stack.stdout()
        assert stack.processes() == {}


def test_a_service_that_never_answers_stops_everything_with_one_line(tmp_path_factory):
    with stack_of(tmp_path_factory, "silent", PINTUAN_SLOW_START_SECONDS="catalog=300",
                  PINTUAN_START_TIMEOUT_SECONDS="30") as stack:
        assert stack.start().wait_exit(120) == 1
        line = one_line(stack.stderr())
        assert line.startswith("./dev up: not ready after 30s: ")
        assert "catalog (no answer to an RPC ping; see " in line
        assert stack.processes() == {}


def test_sigterm_while_processes_start_stops_everything(tmp_path_factory):
    """Stopped the moment its first process runs: honcho has not yet heard of the others."""
    with stack_of(tmp_path_factory, "term") as stack:
        stack.start()
        while not any(command.startswith("python -m plumbing.run")
                      for command in stack.processes().values()):
            assert stack.process.poll() is None, stack.stderr()
            time.sleep(0.01)
        stack.process.send_signal(signal.SIGTERM)  # as a supervisor stops it: the launcher only
        assert stack.wait_exit(60) == 0, stack.stderr()
        assert stack.stdout().rstrip().endswith("stopped every process")
        assert stack.stderr() == ""
        assert stack.processes() == {}
