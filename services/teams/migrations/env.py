from plumbing.migrate import run_env
from services.teams.models import Base

run_env(Base.metadata)
