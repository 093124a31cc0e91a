"""Typed FastAPI dependencies shared by the endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from api_backend.auth.dependencies import OwnerDep
from api_backend.db.engine import get_sessionmaker
from api_backend.settings import Settings, get_settings
from api_backend.storage import Storage, get_storage


def get_session() -> Iterator[Session]:
    with get_sessionmaker()() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]

__all__ = ["OwnerDep", "SessionDep", "SettingsDep", "StorageDep"]
