"""Group-buy traffic through the gateway: each scenario is one team's life as real
shoppers would live it, chosen at random but reproducibly (a seed per run).

A leader opens a team (开团) and usually pays; then some shoppers join (参团):
enough to fill the team, or too few so it fails at its deadline and is refunded;
a few join and never pay, a few cancel, and one sometimes knocks on a full team.
What each shopper saw is tallied; what the system did is judged afterwards from
the databases (invariants.py), not from these answers.
"""
import collections
import itertools
import threading
import time
from dataclasses import dataclass

from tests.faults.client import GaveUp

_codes = itertools.count(1)


@dataclass
class Mix:
    leader_pays: float = 0.92
    fill: float = 0.6  # share of teams that get enough members
    member_pays: float = 0.9
    member_cancels: float = 0.05  # of those who do not pay, the rest let the window pass
    knock_on_full: float = 0.2


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()

    def add(self, what, n=1):
        with self.lock:
            self.counts[what] += n


class Shop:
    """The calls a shopper makes, each retried by the client until it has an answer."""

    def __init__(self, client, tally, run_id):
        self.client = client
        self.tally = tally
        self.run_id = run_id

    def login(self):
        status, body = self.client.call("POST", "/api/v1/auth/wechat-login",
                                        json={"code": f"wx-fault-{self.run_id}-{next(_codes)}"})
        assert status == 200, body
        return body["token"]

    def open_team(self, token, campaign):
        status, body = self.client.call("POST", "/api/v1/teams", token, idempotent_key=True, json={
            "campaign_id": campaign["id"], "sku_id": campaign["sku_id"], "quantity": 1})
        self.tally.add(f"open {status}")
        return body if status == 201 else None

    def join_team(self, token, campaign, team_id):
        status, body = self.client.call("POST", f"/api/v1/teams/{team_id}/join", token,
                                        idempotent_key=True,
                                        json={"sku_id": campaign["sku_id"], "quantity": 1})
        self.tally.add(f"join {status}" + (f" {_code(body)}" if status != 201 else ""))
        return body if status == 201 else None

    def pay(self, token, order_id):
        status, body = self.client.call("POST", f"/api/v1/orders/{order_id}/pay", token)
        if status != 200:
            self.tally.add(f"pay refused {_code(body)}")
            return False
        status, body = self.client.call("POST", f"/sandbox/wechatpay/{body['prepay_id']}/pay",
                                        json={"result": "success"})
        # already_paid: an earlier attempt got through before its answer was lost
        paid = status == 200 or _code(body) == "already_paid"
        self.tally.add("paid" if paid else f"sandbox refused {_code(body)}")
        return paid

    def cancel(self, token, order_id):
        status, _ = self.client.call("POST", f"/api/v1/orders/{order_id}/cancel", token)
        self.tally.add(f"cancel {status}")

    def team(self, team_id):
        status, body = self.client.call("GET", f"/api/v1/teams/{team_id}")
        return body if status == 200 else None


def run_team(shop, campaign, rng, mix, payment_window):
    """One team from 开团 to its end (as far as shoppers act; the rest is timers)."""
    try:
        _run_team(shop, campaign, rng, mix, payment_window)
    except GaveUp as exc:
        shop.tally.add("client gave up")
        shop.tally.add(f"gave up: {exc}")


def _run_team(shop, campaign, rng, mix, payment_window):
    leader = shop.login()
    placed = shop.open_team(leader, campaign)
    if placed is None:
        return
    shop.tally.add("teams opened")
    if rng.random() > mix.leader_pays:
        shop.tally.add("leader never paid")
        return
    if not shop.pay(leader, placed["order"]["id"]):
        return
    team_id = placed["team"]["id"]
    if not _wait_open(shop, team_id, payment_window + 10):
        shop.tally.add("team never opened")
        return
    seats = campaign["team_size"] - 1
    joiners = seats if rng.random() < mix.fill else rng.randrange(0, seats)
    for _ in range(joiners):
        _member(shop, campaign, team_id, rng, mix)
    if joiners == seats and rng.random() < mix.knock_on_full:
        time.sleep(1)
        shop.join_team(shop.login(), campaign, team_id)  # 409 when full; a seat if one freed


def _member(shop, campaign, team_id, rng, mix):
    token = shop.login()
    joined = shop.join_team(token, campaign, team_id)
    if joined is None:
        return
    order_id = joined["order"]["id"]
    if rng.random() < mix.member_pays:
        shop.pay(token, order_id)
    elif rng.random() < mix.member_cancels / (1 - mix.member_pays):
        shop.cancel(token, order_id)
    else:
        shop.tally.add("member never paid")


def _wait_open(shop, team_id, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        team = shop.team(team_id)
        if team and team["status"] != "pending":
            return team["status"] == "open"
        time.sleep(0.3)
    return False


def _code(body):
    """The error code of a refusal ({"error": {"code", "message"}})."""
    return (body.get("error") or {}).get("code") if isinstance(body, dict) else None
