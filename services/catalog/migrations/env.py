from plumbing.migrate import run_env
from services.catalog import review_models  # noqa: F401  (its tables join Base.metadata)
from services.catalog.models import Base

run_env(Base.metadata)
