"""The promotions service: entrypoints only; rules live in domain.py."""
from plumbing.db import Database
from plumbing.probes import ServiceBase


class PromotionsService(ServiceBase):
    name = "promotions"
    db = Database()
