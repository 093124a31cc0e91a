"""One transaction per unit of work, and the work that must wait for its commit.

A request's session commits once, when its endpoint has returned (`deps.get_session`); a worker's
or a script's when its `session_scope` block ends. Services and repositories never commit. What may
only happen once the rows are visible to everyone else — sending a job's task to the broker, a
webhook — is registered with `after_commit` and run by the session's commit event, or forgotten when
the transaction rolls back (Polar enqueues its jobs after the request's commit the same way).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_PENDING = "shadow_trainer.after_commit"
_FAILED = "shadow_trainer.after_commit_failed"


@dataclass(frozen=True)
class _FollowUp:
    action: Callable[[], None]
    must_succeed: bool


def after_commit(session: Session, action: Callable[[], None], *, must_succeed: bool = False) -> None:
    """Run `action` once this session's transaction commits; forget it if the transaction rolls back.

    A failing action is logged and the commit stands. With `must_succeed` its error also reaches
    whoever committed through `commit` (after every other action ran): the client of a request must
    hear that its job could not be queued."""
    session.info.setdefault(_PENDING, []).append(_FollowUp(action, must_succeed))


def unit_of_work(session: Session) -> Iterator[Session]:
    """Yield the session; when the block ends, commit it (`commit`), or roll it back if it raised.
    A generator, for `yield from` in FastAPI dependencies and context managers alike."""
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    commit(session)


def commit(session: Session) -> None:
    """Commit, run the follow-up work, then raise the first error of one that had to succeed."""
    session.info.pop(_FAILED, None)
    session.commit()
    error = session.info.pop(_FAILED, None)
    if error is not None:
        raise error


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    # Never raises: an error escaping this event would leave the session half-committed.
    for follow_up in session.info.pop(_PENDING, []):
        try:
            follow_up.action()
        except Exception as exc:  # the commit stands: a broker that is down must not undo it
            log.exception("could not run follow-up work after a commit")
            if follow_up.must_succeed:
                session.info.setdefault(_FAILED, exc)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def end_reads(session: Session) -> None:
    """End the session's read-only transaction, so that no pooled connection is held during slow
    work (probing or copying a large video) that comes before the writes."""
    session.rollback()
