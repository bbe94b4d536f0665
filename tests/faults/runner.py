"""The fault run: group-buy traffic through the gateway at a steady rate while
services are killed and restarted, RabbitMQ and PostgreSQL restart, and payment
callbacks are lost or late; then, once all is quiet, the invariants.

`./dev faults` runs the long form; `./dev test` runs the short one
(tests/faults/test_fault_run.py). Both print the same report: what the run did,
what it injected, what it found.
"""
import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from plumbing.clock import isoformat
from tests.faults import chaos, invariants
from tests.faults.client import Client, Counters
from tests.faults.scenario import Mix, Shop, Tally, run_team

PAYMENT_WINDOW = 8
TEAM_VALIDITY = 20
STACK_ENV = {
    "PINTUAN_PAYMENT_WINDOW_SECONDS": str(PAYMENT_WINDOW),
    "PINTUAN_SANDBOX_DUPLICATE_RATE": "0.3",
    "PINTUAN_SANDBOX_DROP_RATE": "0.2",  # a fifth of callback attempts never arrive
    "PINTUAN_SANDBOX_DELAY_SECONDS": "0.5",
    "PINTUAN_SANDBOX_REFUND_DELAY_SECONDS": "0.5",
    "PINTUAN_SANDBOX_RETRY_SECONDS": "0.5,1,2,3",
    "PINTUAN_REFUND_RETRY_SECONDS": "0.5,1,2,3",
    # retries that outlast a restart of PostgreSQL or RabbitMQ (about a minute in all)
    "PINTUAN_EVENT_RETRY_DELAYS_MS": "500,2000,5000,10000,20000,30000",
    "PINTUAN_RPC_TIMEOUT": "5",
}


@dataclass
class Profile:
    name: str
    teams: int
    seconds: float  # how long traffic is driven
    fault_every: float
    quiet_timeout: float = 300

    @classmethod
    def from_env(cls, default="short"):
        name = os.environ.get("PINTUAN_FAULT_RUN", default)
        if name == "long":
            minutes = float(os.environ.get("PINTUAN_FAULT_MINUTES", "10"))
            teams = int(os.environ.get("PINTUAN_FAULT_TEAMS", "540"))
            return cls("long", teams, minutes * 60, fault_every=20)
        # short: every kind of fault once, in about two minutes of traffic
        return cls("short", int(os.environ.get("PINTUAN_FAULT_TEAMS", "70")), 110, fault_every=11)


def run(stack, gateway_url, profile, log_dir, seed=None):
    seed = seed if seed is not None else int(time.time())
    rng = random.Random(seed)
    counters, tally = Counters(), Tally()
    client = Client(gateway_url, counters)
    shop = Shop(client, tally, run_id=seed)
    campaigns = _campaigns(client, rng)
    dbs = invariants.Databases()
    context = {"initial_stock": _stock(dbs, [c["sku_id"] for c in campaigns])}
    started = time.monotonic()
    chaos_run = chaos.Chaos(stack, started)
    stop = threading.Event()
    injector = threading.Thread(target=_inject_faults, args=(chaos_run, profile, stop), daemon=True)
    injector.start()
    _drive(shop, campaigns, rng, profile)
    stop.set()
    injector.join()
    driven = time.monotonic() - started
    quiet_after, still_moving = _wait_quiet(dbs, profile.quiet_timeout)
    results = invariants.check_all(dbs, context)
    dbs.dispose()
    report = {
        "profile": asdict(profile), "seed": seed, "driven_seconds": round(driven, 1),
        "quiet_after_seconds": quiet_after, "still_moving": still_moving,
        "campaigns": [{k: c[k] for k in ("id", "team_size")} for c in campaigns],
        "load": dict(sorted(tally.counts.items())),
        "client": {"answers": sum(counters.answers.values()),
                   "retries": sum(counters.retries.values()),
                   "gave_up": dict(counters.gave_up),
                   "server_errors": counters.server_errors()},
        "faults": [asdict(f) for f in chaos_run.injected],
        "invariants": [{"check": name, "holds": holds, "detail": detail}
                       for name, holds, detail in results],
    }
    (log_dir / "fault-report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2,
                                                          default=str))
    return report


def _campaigns(client, rng):
    """Campaigns of team size 2 and 3 on products of their own, stock to spare."""
    status, body = client.call("POST", "/admin/v1/auth/login",
                               json={"username": "demo-merchant", "password": "demo-password"})
    assert status == 200, body
    token = body["token"]
    campaigns = []
    for index, team_size in enumerate((2, 3, 3, 2, 3)):
        status, product = client.call("POST", "/admin/v1/products", token, json={
            "title": f"故障演练 商品 {index + 1}",
            "skus": [{"spec": "标准装", "price": 2990, "stock": 5000}]})
        assert status == 201, product
        client.call("POST", f"/admin/v1/products/{product['id']}/publish", token)
        now = datetime.now(timezone.utc)
        body = {"product_id": product["id"], "starts_at": isoformat(now),
                "ends_at": isoformat(now + timedelta(hours=2)), "team_size": team_size,
                "validity_seconds": TEAM_VALIDITY, "per_user_limit": 5,
                "skus": [{"sku_id": product["skus"][0]["id"], "group_price": 1990}]}
        status, created = client.call("POST", "/admin/v1/campaigns", token, json=body)
        assert status == 201, created  # at once: teams asks catalog if its copy lags
        campaigns.append({**created, "sku_id": product["skus"][0]["id"]})
    return campaigns


def _stock(dbs, sku_ids):
    rows = dbs.rows("catalog", "SELECT id, stock FROM skus WHERE id IN :ids", ids=tuple(sku_ids))
    return {r["id"]: r["stock"] for r in rows}


def _drive(shop, campaigns, rng, profile):
    """Starts a team every `seconds / teams` seconds; each lives on its own thread."""
    interval = profile.seconds / profile.teams
    mix = Mix()
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=48) as pool:
        for index in range(profile.teams):
            time.sleep(max(0.0, began + index * interval - time.monotonic()))
            campaign = campaigns[index % len(campaigns)]
            pool.submit(run_team, shop, campaign, random.Random(rng.random()), mix, PAYMENT_WINDOW)


def _inject_faults(chaos_run, profile, stop):
    """One fault every `fault_every` seconds while traffic runs; and every kind at least
    once, even if that goes on past the traffic (there is work in flight until quiet)."""
    faults = chaos.plan()
    index = 0
    while index < len(faults) or not stop.is_set():
        stop.wait(profile.fault_every if not stop.is_set() else 2)
        chaos_run.inject(faults[index % len(faults)])
        index += 1


def _wait_quiet(dbs, timeout):
    began = time.monotonic()
    moving = {}
    while time.monotonic() - began < timeout:
        try:
            calm, moving = invariants.quiet(dbs)
        except Exception as exc:  # the database may still be coming back
            calm, moving = False, {"error": str(exc)}
        if calm:
            return round(time.monotonic() - began, 1), {}
        time.sleep(1)
    return None, moving


def format_report(report):
    quiet = (f"after {report['quiet_after_seconds']}s" if report["quiet_after_seconds"] is not None
             else "NEVER: " + json.dumps(report["still_moving"], ensure_ascii=False))
    lines = [f"Fault run ({report['profile']['name']}, seed {report['seed']}): "
             f"{report['driven_seconds']}s of traffic, quiet {quiet}",
             "", "What the shoppers did and saw:"]
    lines += [f"  {what:<40} {n:>6}" for what, n in report["load"].items()]
    client = report["client"]
    lines += [f"  {'HTTP answers / client retries':<40} {client['answers']:>6} / {client['retries']}",
              f"  5xx answers: {client['server_errors'] or 'none'}",
              f"  gave up: {client['gave_up'] or 'never'}", "", "Faults injected:",
              f"  {'at (s)':>7}  {'fault':<40} {'healthy again after (s)':>24}"]
    lines += [f"  {f['at']:>7}  {f['fault']:<40} {f['recovered_after']:>24}" for f in report["faults"]]
    lines += ["", "Invariants:"]
    for item in report["invariants"]:
        detail = item["detail"] if isinstance(item["detail"], str) else json.dumps(
            item["detail"], ensure_ascii=False, default=str)
        lines.append(f"  {'PASS' if item['holds'] else 'FAIL'}  {item['check']:<36} {detail}")
    return "\n".join(lines)
