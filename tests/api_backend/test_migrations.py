"""Alembic migrations go up and down on PostgreSQL and SQLite, and match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from api_backend.db.migrations import alembic_config, current_revisions, head_revisions, wait_for_head
from api_backend.db.models import Base
from tests.support.services import postgres_database


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with postgres_database() as url:
        yield url


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_then_downgrade_base(database_url: str) -> None:
    config = alembic_config(database_url)
    command.upgrade(config, "head")
    assert {"jobs", "worker_heartbeats", "alembic_version"} <= tables(database_url)
    command.downgrade(config, "base")
    assert tables(database_url) <= {"alembic_version"}
    command.upgrade(config, "head")  # and back up again: downgrade left nothing behind
    assert "jobs" in tables(database_url)


def test_migrations_match_the_models(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_wait_for_head_sees_the_schema_reach_head(database_url: str) -> None:
    assert not wait_for_head(database_url, timeout_s=0.0)
    command.upgrade(alembic_config(database_url), "head")
    assert current_revisions(database_url) == head_revisions()
    assert wait_for_head(database_url, timeout_s=0.0)


def test_the_top_level_alembic_ini_points_at_the_packaged_scripts(database_url: str) -> None:
    """Developers running ``alembic`` by hand from the repository get the same migrations."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    root = Path(__file__).resolve().parents[2]
    config = Config(str(root / "alembic.ini"))
    assert set(ScriptDirectory.from_config(config).get_heads()) == head_revisions()
