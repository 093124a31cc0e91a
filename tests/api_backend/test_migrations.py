"""Alembic migrations go up and down on PostgreSQL and SQLite, and match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from api_backend.cli import _alembic_config
from api_backend.db.models import Base
from tests.support.services import postgres_database


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with postgres_database() as url:
        yield url


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    config = _alembic_config()
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["configure_logging"] = False
    return config


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
