from plumbing.migrate import run_env
from services.reviews.models import Base

run_env(Base.metadata)
