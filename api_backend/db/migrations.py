"""Alembic, configured in code: the migration scripts ship inside the package (``api_backend/migrations``),
so ``shadow-trainer db upgrade`` works from any folder, for an editable install, a wheel and the images.
The top-level ``alembic.ini`` (for developers running ``alembic`` by hand) points at the same scripts."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from api_backend.db.engine import build_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
log = logging.getLogger(__name__)


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration without an ini file; ``url`` overrides the settings' database URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url)
    return config


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(url: str) -> set[str]:
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def wait_for_head(url: str, *, timeout_s: float, poll_s: float = 2.0) -> bool:
    """Wait until the database is at this package's head revision (another process migrates it)."""
    heads = head_revisions()
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            current = current_revisions(url)
            if current == heads:
                return True
            log.info("database at %s, waiting for %s", sorted(current), sorted(heads))
        except Exception as exc:  # the database may not be up yet
            log.info("database not reachable yet: %s", exc)
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
