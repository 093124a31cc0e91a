"""Fixtures for the deployment checks: a self-signed certificate and the dev-tool binaries."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.deploy.nginx_render import NGINX, make_self_signed_cert

VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A binary from the project's virtual environment (installed by `uv sync`)."""
    found = VENV_BIN / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    assert on_path, f"{name} is missing: `uv sync` installs it with the dev dependency group"
    return on_path


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_self_signed_cert(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    assert Path(NGINX).exists(), "nginx is not installed (apt-get install nginx-light)"
    return NGINX
