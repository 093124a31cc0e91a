"""Typed FastAPI dependencies shared by the endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from api_backend.auth.dependencies import OwnerDep
from api_backend.db.engine import get_sessionmaker
from api_backend.db.transaction import unit_of_work
from api_backend.settings import Settings, get_settings
from api_backend.storage import Storage, get_storage


def get_session() -> Iterator[Session]:
    """The request's session: its one transaction commits when the endpoint has returned, before
    the response is sent (follow-up work such as sending a job's task runs then), and rolls back when
    the endpoint raised."""
    with get_sessionmaker()() as session:
        yield from unit_of_work(session)


# "function" scope: the commit (and its errors, e.g. an unreachable queue) comes before the response.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]

__all__ = ["OwnerDep", "SessionDep", "SettingsDep", "StorageDep"]
