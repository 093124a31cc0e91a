"""One commit per unit of work: follow-up work runs after it, never after a rollback, and a follow-up
that had to succeed reaches whoever committed while the session stays usable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from api_backend.db.transaction import after_commit, commit


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'unit.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_follow_ups_run_after_the_commit_only(session: Session) -> None:
    ran: list[str] = []
    session.execute(text("INSERT INTO t VALUES (1)"))
    after_commit(session, lambda: ran.append("dropped"))
    session.rollback()
    session.execute(text("INSERT INTO t VALUES (2)"))
    after_commit(session, lambda: ran.append("sent"))
    assert ran == []
    commit(session)
    assert ran == ["sent"]
    assert session.execute(text("SELECT n FROM t")).scalars().all() == [2]


def test_a_follow_up_that_must_succeed_reaches_the_committer_after_the_others_ran(session: Session) -> None:
    ran: list[str] = []

    def broker_down() -> None:
        raise ConnectionError("broker down")

    session.execute(text("INSERT INTO t VALUES (1)"))
    after_commit(session, broker_down, must_succeed=True)
    after_commit(session, lambda: ran.append("webhook"))
    with pytest.raises(ConnectionError):
        commit(session)
    assert ran == ["webhook"]
    # The rows stand and the session goes on: the next unit of work commits normally.
    session.execute(text("INSERT INTO t VALUES (2)"))
    commit(session)
    assert session.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2]


def test_a_failing_best_effort_follow_up_is_only_logged(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    def webhook_down() -> None:
        raise ConnectionError("redis down")

    session.execute(text("INSERT INTO t VALUES (1)"))
    after_commit(session, webhook_down)
    commit(session)  # does not raise
    assert "could not run follow-up work" in caplog.text
