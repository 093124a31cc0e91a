"""Every table, imported in one place for Alembic's autogenerate and for `create_all` in tools."""

from api_backend.auth.models import ApiKey
from api_backend.db.base import Base
from api_backend.jobs.models import Job
from api_backend.workers.models import WorkerHeartbeat

__all__ = ["ApiKey", "Base", "Job", "WorkerHeartbeat"]
