"""Settings of the teams service alone (the shared ones are in plumbing.settings)."""
from plumbing.settings import env


def payment_window_seconds():
    """PINTUAN_PAYMENT_WINDOW_SECONDS: how long a reserved seat waits for its order's
    payment (orders cancels an unpaid order after the same window, releasing the seat)."""
    return int(env("PINTUAN_PAYMENT_WINDOW_SECONDS", "900"))
