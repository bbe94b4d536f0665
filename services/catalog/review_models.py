"""Tables of reviews and feedback (same metadata as models.py)."""
from services.catalog.models import Base  # noqa: F401
