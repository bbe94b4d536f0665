"""The payments service: entrypoints only; rules live in domain.py."""
from plumbing.db import Database
from plumbing.probes import ServiceBase


class PaymentsService(ServiceBase):
    name = "payments"
    db = Database()
