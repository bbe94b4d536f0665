"""Tables of the notify service. Only the outbox and inbox (plumbing.messaging) so far."""
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
