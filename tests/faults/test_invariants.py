"""The invariants themselves, on rows written by hand: a check that cannot fail proves nothing."""
import sqlalchemy as sa

from plumbing import clock
from tests.faults import invariants


def refund(engine, status, attempts=1):
    now = clock.now()
    with engine.begin() as conn:
        payment_id = conn.execute(sa.text(
            "INSERT INTO payments (order_id, user_id, amount, description, status, out_trade_no, "
            "created_at) VALUES (:o, 1, 100, 'x', 'succeeded', :t, :now) RETURNING id"),
            {"o": attempts * 100 + len(status), "t": f"trade-{status}-{attempts}", "now": now}
        ).scalar_one()
        conn.execute(sa.text(
            "INSERT INTO refunds (payment_id, order_id, amount, reason, refund_key, out_refund_no, "
            "status, attempts, next_attempt_at, last_error, created_at, requested_at) VALUES "
            "(:p, 1, 100, 'x', :k, :k, :s, :a, :now, 'NOT_ENOUGH', :now, :now)"),
            {"p": payment_id, "k": f"key-{status}-{attempts}", "s": status, "a": attempts,
             "now": now})


def test_a_stuck_refund_fails_the_run_and_does_not_keep_it_from_going_quiet(databases,
                                                                            engine_of):
    payments, dbs = engine_of("payments"), invariants.Databases()
    try:
        refund(payments, "succeeded")
        assert invariants.no_refund_stuck(dbs, {})[0] is True
        refund(payments, "requested", attempts=2)
        assert invariants.no_refund_stuck(dbs, {})[0] is True  # still being tried
        assert "refunds in flight" in invariants.quiet(dbs)[1]
        refund(payments, "requested", attempts=5)  # PINTUAN_REFUND_STUCK_ATTEMPTS
        refund(payments, "failed")
        holds, detail = invariants.no_refund_stuck(dbs, {})
        assert holds is False and len(detail) == 2
        assert invariants.quiet(dbs)[1]["refunds in flight"] == 2  # a failed one will not move
    finally:
        dbs.dispose()
