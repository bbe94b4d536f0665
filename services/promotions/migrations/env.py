from plumbing.migrate import run_env
from services.promotions.models import Base

run_env(Base.metadata)
