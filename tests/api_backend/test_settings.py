"""Settings: defaults point at the embedded setup; production refuses the default secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from api_backend.settings import DEFAULT_SECRET, Settings


def test_embedded_defaults(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'shadow_trainer.db'}"
    assert settings.resolved_broker_url == f"sqla+sqlite:///{tmp_path.resolve() / 'broker.db'}"
    assert settings.resolved_storage_backend == "local"


def test_servers_are_switched_on_by_configuration() -> None:
    settings = Settings(
        database_url="postgres://u:p@db/shadow", redis_url="redis://cache:6379/0", s3_bucket="b",
        _env_file=None,
    )  # fmt: skip
    assert settings.resolved_database_url == "postgresql+psycopg://u:p@db/shadow"
    assert settings.resolved_broker_url == "redis://cache:6379/0"
    assert settings.resolved_storage_backend == "s3"


def test_broker_url_wins_over_redis_url() -> None:
    settings = Settings(redis_url="redis://a", celery_broker_url="amqp://b", _env_file=None)
    assert settings.resolved_broker_url == "amqp://b"


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key=DEFAULT_SECRET, _env_file=None)
    Settings(environment="production", secret_key="a-real-secret", _env_file=None)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_UPLOAD_MB", "12")
    monkeypatch.setenv("ALLOWED_ORIGINS", '["https://app.example.com"]')
    settings = Settings(_env_file=None)
    assert settings.max_upload_bytes == 12 * 1024 * 1024
    assert settings.allowed_origins == ["https://app.example.com"]


def test_time_limits_must_be_ordered() -> None:
    with pytest.raises(ValidationError):
        Settings(job_soft_time_limit_s=100, job_time_limit_s=50, _env_file=None)


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_ENDPOINT_URL", "")
    monkeypatch.setenv("DATABASE_URL", "")
    settings = Settings(_env_file=None)
    assert settings.s3_endpoint_url is None
    assert settings.resolved_database_url.startswith("sqlite:///")
