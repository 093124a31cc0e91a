"""Who is calling: the owner of the API key, or the single local owner in open mode."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api_backend.auth.keys import authenticate
from api_backend.db.engine import get_sessionmaker
from api_backend.errors import ApiError
from api_backend.settings import get_settings

OPEN_OWNER = "local"


def presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return request.headers.get("x-api-key") or None


def _owner_of(session: Session, key: str | None) -> str:
    if key is None:
        raise ApiError(401, "unauthorized", "send your API key as `Authorization: Bearer <key>`",
                       headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    row = authenticate(session, key)
    if row is None:
        raise ApiError(401, "unauthorized", "the API key is unknown or revoked",
                       headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    return row.owner


def get_owner(request: Request) -> str:
    if get_settings().auth_mode == "open":
        return OPEN_OWNER
    with get_sessionmaker()() as session:
        owner = _owner_of(session, presented_key(request))
    request.state.owner = owner
    return owner


OwnerDep = Annotated[str, Depends(get_owner)]
