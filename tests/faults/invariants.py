"""What must hold once a fault run has gone quiet, read straight from each service's
database and from RabbitMQ. Each check returns (holds, detail); the detail names
what broke it, so a failing run says where to look.

"Quiet": no order still waiting on a timer or a callback, every team closed, every
outbox published. `quiet()` says whether that is reached; the runner waits for it.
"""
import collections
from contextlib import contextmanager

import sqlalchemy as sa

from plumbing import clock, deadletters, settings
from services.payments import config as payments_config
from services.payments import store as payments_store
from services.payments.models import Refund

OPEN_ORDER_STATUSES = ("placing", "pending_payment", "awaiting_team", "paid", "refunding")
FINAL_ORDER_STATUSES = ("to_ship", "shipped", "completed", "cancelled", "refunded")
OUTBOX_SERVICES = ("accounts", "catalog", "teams", "orders", "payments", "notify", "reviews")


class Databases:
    def __init__(self):
        self.engines = {name: sa.create_engine(settings.database_url(name), pool_pre_ping=True)
                        for name in settings.SERVICES}

    @contextmanager
    def connect(self, service):
        with self.engines[service].connect() as conn:
            yield conn

    def rows(self, service, sql, **params):
        with self.connect(service) as conn:
            return [dict(row._mapping) for row in conn.execute(_text(sql, params), params)]

    def scalar(self, service, sql, **params):
        with self.connect(service) as conn:
            return conn.execute(_text(sql, params), params).scalar()

    def dispose(self):
        for engine in self.engines.values():
            engine.dispose()


def quiet(dbs):
    """-> (quiet, what is still moving)."""
    moving = {}
    open_orders = dbs.scalar("orders", "SELECT count(*) FROM orders WHERE status IN :s",
                             s=OPEN_ORDER_STATUSES)
    if open_orders:
        moving["orders not final"] = open_orders
    open_teams = dbs.scalar("teams", "SELECT count(*) FROM teams WHERE status IN ('pending', 'open')")
    if open_teams:
        moving["teams not closed"] = open_teams
    for service in OUTBOX_SERVICES:
        backlog = dbs.scalar(service, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        if backlog:
            moving[f"{service} outbox"] = backlog
    pending_refunds = dbs.scalar("payments", "SELECT count(*) FROM refunds "
                                             "WHERE status IN ('requested', 'processing')")
    if pending_refunds:
        moving["refunds in flight"] = pending_refunds
    return not moving, moving


def _text(sql, params):
    """Tuple parameters expand, so `IN :ids` takes a tuple."""
    return sa.text(sql).bindparams(*(sa.bindparam(name, expanding=True)
                                     for name, value in params.items() if isinstance(value, tuple)))


# --- the checks ---------------------------------------------------------------------

def orders_final(dbs, ctx):
    counts = {r["status"]: r["n"] for r in dbs.rows(
        "orders", "SELECT status, count(*) AS n FROM orders GROUP BY status")}
    stuck = {s: n for s, n in counts.items() if s not in FINAL_ORDER_STATUSES}
    return not stuck, stuck or counts


def paid_orders_shipped_or_refunded(dbs, ctx):
    """Every payment that succeeded belongs to an order now to_ship or refunded: no
    payment without its order."""
    paid = {r["order_id"] for r in dbs.rows("payments",
                                            "SELECT order_id FROM payments WHERE status = 'succeeded'")}
    statuses = _order_statuses(dbs)
    wrong = {order_id: statuses.get(order_id, "missing") for order_id in paid
             if statuses.get(order_id) not in ("to_ship", "shipped", "completed", "refunded")}
    return not wrong, _sample(wrong) or f"{len(paid)} paid orders"


def ledger_matches_orders(dbs, ctx):
    """paid − refunded per order (from the ledger) is what the order says it holds:
    its amount when to_ship, nothing when refunded or cancelled; never negative."""
    held = collections.Counter()
    for r in dbs.rows("payments", "SELECT account, sum(amount) AS total FROM ledger_postings "
                                  "WHERE account LIKE 'order:%' GROUP BY account"):
        held[int(r["account"].split(":", 1)[1])] = -int(r["total"])  # credits are negative
    wrong = {}
    for order in dbs.rows("orders", "SELECT id, status, amount FROM orders"):
        expected = order["amount"] if order["status"] in ("to_ship", "shipped", "completed") else 0
        if held.get(order["id"], 0) != expected:
            wrong[order["id"]] = f"{order['status']}: ledger {held.get(order['id'], 0)}, expected {expected}"
    negative = {order_id: amount for order_id, amount in held.items() if amount < 0}
    unbalanced = dbs.rows("payments", "SELECT movement_id FROM ledger_postings GROUP BY movement_id "
                                      "HAVING sum(amount) <> 0")
    ok = not wrong and not negative and not unbalanced
    return ok, ({"orders": _sample(wrong), "negative": _sample(negative),
                 "unbalanced movements": len(unbalanced)} if not ok
                else f"{len(held)} order accounts, {sum(held.values())} fen held")


def no_refund_twice(dbs, ctx):
    by_order = dbs.rows("payments", "SELECT order_id, count(*) AS n, sum(amount) AS total "
                                    "FROM refunds WHERE status = 'succeeded' GROUP BY order_id")
    twice = {r["order_id"]: r["n"] for r in by_order if r["n"] > 1}
    provider = dbs.rows("payments", "SELECT o.out_trade_no, o.amount, sum(r.amount) AS refunded "
                                    "FROM sandbox_orders o JOIN sandbox_refunds r "
                                    "ON r.out_trade_no = o.out_trade_no "
                                    "GROUP BY o.out_trade_no, o.amount HAVING sum(r.amount) > o.amount")
    ok = not twice and not provider
    return ok, {"twice": _sample(twice), "over-refunded at provider": len(provider)} if not ok \
        else f"{len(by_order)} refunds, each once"


def no_refund_stuck(dbs, ctx):
    """A refund refused for good, or not done after PINTUAN_REFUND_STUCK_ATTEMPTS tries
    (or its time), is money owed to a shopper that nobody is returning: a failure. The
    definition is payments' own (what ops sees at /admin/v1/ops/refunds?state=stuck)."""
    query = (sa.select(Refund.id, Refund.order_id, Refund.status, Refund.attempts,
                       Refund.last_error)
             .where(payments_store.stuck_condition(clock.now(), payments_config.refund_stuck_policy())))
    with dbs.connect("payments") as conn:
        stuck = {row.id: f"order {row.order_id}: {row.status} after {row.attempts} tries "
                         f"({row.last_error})" for row in conn.execute(query)}
    return not stuck, _sample(stuck) or "no refund stuck"


def failed_teams_refunded(dbs, ctx):
    failed = dbs.rows("teams", "SELECT s.order_id FROM seats s JOIN teams t ON t.id = s.team_id "
                               "WHERE t.status = 'failed' AND s.paid_at IS NOT NULL")
    statuses = _order_statuses(dbs)
    wrong = {r["order_id"]: statuses.get(r["order_id"]) for r in failed
             if statuses.get(r["order_id"]) != "refunded"}
    return not wrong, _sample(wrong) or f"{len(failed)} paid seats of failed teams, all refunded"


def stock_conserved(dbs, ctx):
    """Units sold (committed reservations) + units on the shelf = units the merchant put up."""
    committed = collections.Counter()
    for r in dbs.rows("catalog", "SELECT sku_id, state, sum(quantity) AS n FROM stock_reservations "
                                 "GROUP BY sku_id, state"):
        if r["state"] == "reserved":
            committed["__reserved__"] += r["n"]
        elif r["state"] == "committed":
            committed[r["sku_id"]] += r["n"]
    stock = {r["id"]: r["stock"] for r in dbs.rows("catalog", "SELECT id, stock FROM skus")}
    wrong = {sku_id: f"initial {initial}, now {stock.get(sku_id)} + sold {committed[sku_id]}"
             for sku_id, initial in ctx["initial_stock"].items()
             if stock.get(sku_id, 0) + committed[sku_id] != initial}
    to_ship = dbs.scalar("orders", "SELECT coalesce(sum(quantity), 0) FROM orders "
                                   "WHERE status IN ('to_ship', 'shipped', 'completed') "
                                   "AND sku_id IN :ids",
                         ids=tuple(ctx["initial_stock"]) or (0,))
    sold = sum(committed[sku_id] for sku_id in ctx["initial_stock"])
    if sold != to_ship:
        wrong["sold vs orders"] = f"committed {sold}, orders to ship {to_ship}"
    if committed["__reserved__"]:
        wrong["still reserved"] = committed["__reserved__"]
    return not wrong, wrong or f"{sold} units sold, stock conserved"


def no_team_overfilled(dbs, ctx):
    teams = dbs.rows("teams", "SELECT t.id, t.status, t.team_size, "
                              "count(s.id) FILTER (WHERE s.state = 'paid') AS paid "
                              "FROM teams t LEFT JOIN seats s ON s.team_id = t.id "
                              "GROUP BY t.id, t.status, t.team_size")
    over = {t["id"]: f"{t['paid']}/{t['team_size']}" for t in teams if t["paid"] > t["team_size"]}
    short = {t["id"]: f"{t['paid']}/{t['team_size']}" for t in teams
             if t["status"] == "succeeded" and t["paid"] != t["team_size"]}
    ok = not over and not short
    outcome = collections.Counter(t["status"] for t in teams)
    return ok, {"over-filled": _sample(over), "succeeded but not full": _sample(short)} if not ok \
        else dict(outcome)


def one_notification_per_event(dbs, ctx):
    """The unique key guarantees one row per (event, user, kind); this also checks that
    every member of a succeeded team heard of it exactly once."""
    dupes = dbs.rows("notify", "SELECT source_event_id, user_id, kind, count(*) AS n "
                               "FROM notifications GROUP BY source_event_id, user_id, kind "
                               "HAVING count(*) > 1")
    members = dbs.rows("teams", "SELECT s.user_id, t.id AS team_id FROM seats s "
                                "JOIN teams t ON t.id = s.team_id "
                                "WHERE t.status = 'succeeded' AND s.state = 'paid'")
    heard = collections.Counter(r["user_id"] for r in dbs.rows(
        "notify", "SELECT user_id FROM notifications WHERE kind = 'team_succeeded'"))
    expected = collections.Counter(r["user_id"] for r in members)
    wrong = {user: f"heard {heard[user]}, expected {n}" for user, n in expected.items()
             if heard[user] != n}
    ok = not dupes and not wrong
    total = dbs.scalar("notify", "SELECT count(*) FROM notifications")
    return ok, {"duplicates": len(dupes), "members": _sample(wrong)} if not ok \
        else f"{total} messages, none twice"


def outboxes_drained(dbs, ctx):
    backlog = {s: dbs.scalar(s, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
               for s in OUTBOX_SERVICES}
    backlog = {s: n for s, n in backlog.items() if n}
    return not backlog, backlog or "every outbox published"


def dead_letters_explained(dbs, ctx):
    counts = {q: n for q, n in deadletters.counts(settings.amqp_uri()).items() if n}
    if not counts:
        return True, "every dead-letter queue empty"
    found = {q: [m["body"].get("event_type") if isinstance(m["body"], dict) else m["body"]
                 for m in deadletters.peek(settings.amqp_uri(), q, limit=3)]
             for q in counts}
    return False, {"counts": counts, "first": found}


CHECKS = [orders_final, paid_orders_shipped_or_refunded, ledger_matches_orders, no_refund_twice,
          no_refund_stuck, failed_teams_refunded, stock_conserved, no_team_overfilled,
          one_notification_per_event, outboxes_drained, dead_letters_explained]


def check_all(dbs, ctx):
    results = []
    for check in CHECKS:
        try:
            holds, detail = check(dbs, ctx)
        except Exception as exc:  # a check that cannot run does not pass
            holds, detail = False, f"check failed to run: {type(exc).__name__}: {exc}"
        results.append((check.__name__, holds, detail))
    return results


def _order_statuses(dbs):
    return {r["id"]: r["status"] for r in dbs.rows("orders", "SELECT id, status FROM orders")}


def _sample(mapping, limit=5):
    if not mapping:
        return {}
    items = list(mapping.items())
    shown = dict(items[:limit])
    if len(items) > limit:
        shown["…"] = f"{len(items) - limit} more"
    return shown
