"""The demo shop's staff accounts, which exist only outside production.

`ensure(session)` is idempotent, so the `ensure_demo_accounts` RPC, the start-up
hook below and several replicas can all run it.
"""
import logging

import eventlet
from nameko.extensions import DependencyProvider
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plumbing import db, settings
from plumbing.errors import Conflict, Forbidden
from services.accounts import store

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-password"
DEMO_OPS = "demo-ops"
DEMO_MERCHANTS = (("demo-merchant", "拼团演示店"),)
MAX_RETRY_SECONDS = 30


def check_allowed():
    if settings.is_production():
        raise Forbidden("demo_accounts_forbidden",
                        "Demo accounts are never created in production.")


def ensure(session):
    """Creates the missing demo accounts; -> the usernames it created."""
    check_allowed()
    created = []
    for username, shop_name in DEMO_MERCHANTS:
        if _made(lambda: store.add_merchant(session, username, DEMO_PASSWORD, shop_name)):
            created.append(username)
    if _made(lambda: store.add_staff_user(session, DEMO_OPS, DEMO_PASSWORD, ["ops"])):
        created.append(DEMO_OPS)
    return created


def _made(add):
    try:
        add()
        return True
    except Conflict:  # already there (maybe made by another replica a moment ago)
        return False


class DemoShop(DependencyProvider):
    """Creates the demo accounts when the container starts, if `PINTUAN_DEMO_SHOP=1`
    and the environment is not production (there it only logs a warning).

    Nameko has no start-up entrypoint, so `start()` spawns the work in a managed
    thread: the container starts at once, and the thread retries with a growing
    delay until the database answers. Callers that must not race it (the demo
    seed) call the `ensure_demo_accounts` RPC, which does the same.
    """

    def start(self):
        if settings.env("PINTUAN_DEMO_SHOP") != "1":
            return
        if settings.is_production():
            log.warning("PINTUAN_DEMO_SHOP=1 ignored: no demo accounts in production")
            return
        self.container.spawn_managed_thread(self._ensure_until_done)

    def _ensure_until_done(self):
        delay = 0.5
        while True:
            try:
                created = self._ensure_once()
                log.info("demo accounts ready (created: %s)", ", ".join(created) or "none")
                return
            except Exception:  # database not up yet: try again, never kill the container
                log.exception("could not create the demo accounts; retrying in %ss", delay)
                eventlet.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)

    def _ensure_once(self):
        engine = db.databases_of(self.container)[0].engine
        with Session(engine, expire_on_commit=False) as session:
            try:
                created = ensure(session)
                session.commit()
            except IntegrityError:  # another replica committed the same account first
                session.rollback()
                created = []
            return created
