"""The notify service: entrypoints only; rules live in domain.py."""
from plumbing.db import Database
from plumbing.probes import ServiceBase


class NotifyService(ServiceBase):
    name = "notify"
    db = Database()
