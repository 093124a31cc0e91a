"""The rate limits as FastAPI dependencies of the routers (the counting is in `limiter.py`)."""

from __future__ import annotations

from fastapi import Depends, Request

from api_backend.auth.dependencies import get_owner
from api_backend.auth.limiter import client_address, get_rate_limits, refuse_over
from api_backend.settings import get_settings


def enforce_rate_limit(request: Request, owner: str = Depends(get_owner)) -> None:
    """Per API key; in open mode, per client address."""
    limits = get_rate_limits()
    key_prefix = getattr(request.state, "key_prefix", None)
    if get_settings().auth_mode == "api_key" and key_prefix:
        refuse_over(limits.requests, "key", key_prefix)
    else:
        refuse_over(limits.requests, "address", client_address(request))


def enforce_client_rate_limit(request: Request) -> None:
    refuse_over(get_rate_limits().requests, "address", client_address(request))
