"""The orders service: entrypoints only; rules live in domain.py."""
from plumbing.db import Database
from plumbing.probes import ServiceBase


class OrdersService(ServiceBase):
    name = "orders"
    db = Database()
