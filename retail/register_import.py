"""Large register imports as a background job (issue 14: a 50,000-row file was killed by the web worker's timeout
and nothing was imported). A file of more than INLINE_ROWS rows is queued when the officer confirms the preview;
the scheduler's every-minute job runs it as that officer, 1,000 rows per transaction with the progress saved in the
same transaction, so the preview page shows how far it has got and a restart carries on where it stopped."""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from .audit import acting_as
from .extensions import db
from .models.accounts import User
from .models.register import ImportBatch
from .register_csv import ImportFileError, apply_import, read_rows
from .scoping import acting_for, scope_for
from .timeutil import utcnow

log = logging.getLogger(__name__)

INLINE_ROWS = 2000  # at most this many rows are imported while the officer waits
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STALE_AFTER = timedelta(minutes=10)  # a running import with no progress this long was cut short: run it again


def row_count(content: bytes) -> int:
    try:
        return len(read_rows(content)[1])
    except ImportFileError:
        return 0


def runs_in_background(batch: ImportBatch) -> bool:
    """A file too long to import while the officer waits, or one whose background import stopped part-way."""
    return batch.status == FAILED or row_count(batch.content) > INLINE_ROWS


def queue(batch: ImportBatch) -> None:
    """Queue (or, after a failure, queue again) the batch; a retry carries on from the rows already written."""
    batch.status = QUEUED
    batch.rows_total = row_count(batch.content)
    batch.error = ""
    batch.progress_at = utcnow()


def _claim() -> int | None:
    now = utcnow()
    waiting = sa.or_(ImportBatch.status == QUEUED,
                     sa.and_(ImportBatch.status == RUNNING, ImportBatch.progress_at < now - STALE_AFTER))
    batch_id = db.session.scalar(sa.select(ImportBatch.id).where(waiting).order_by(ImportBatch.id).limit(1))
    if batch_id is None:
        return None
    claimed = db.session.execute(sa.update(ImportBatch).where(ImportBatch.id == batch_id, waiting)
                                 .values(status=RUNNING, progress_at=now)).rowcount == 1
    db.session.commit()
    return batch_id if claimed else None


def _save(batch_id: int, **values) -> None:
    db.session.execute(sa.update(ImportBatch).where(ImportBatch.id == batch_id).values(**values))


def run_queued_imports() -> int:
    """Scheduler job: run the oldest queued import (one per call, one process each). Returns how many ran."""
    batch_id = _claim()
    if batch_id is None:
        return 0
    batch = db.session.get(ImportBatch, batch_id)
    user = db.session.get(User, batch.user_id)
    content, start_at, counts = batch.content, batch.rows_done, dict(batch.summary or {}) or None

    def progress(done: int, so_far: dict) -> None:
        _save(batch_id, rows_done=done, summary=dict(so_far), progress_at=utcnow())

    try:
        with acting_for(scope_for(user)), acting_as(user.email):
            counts = apply_import(content, start_at=start_at, counts=counts, on_progress=progress)
    except Exception as exc:  # noqa: BLE001 - kept on the batch for the officer; the rows written so far stay
        db.session.rollback()
        log.exception("register import %s failed", batch_id)
        _save(batch_id, status=FAILED, error=str(exc)[:2000], progress_at=utcnow())
        db.session.commit()
        return 1
    _save(batch_id, status=DONE, imported_at=utcnow(), summary=counts, progress_at=utcnow())
    db.session.commit()
    return 1
