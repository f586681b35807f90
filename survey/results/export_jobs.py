"""The round's raw answers (CSV), Excel workbook and PDF report, built by a background job into
the shared storage (a round of more than ``EXPORT_IN_REQUEST_RESPONSES`` responses), or in the
request (a smaller one: ``in_request``).

A download asks for a file by what it depends on (``Spec``): round, kind, language, variant
(the workbook with or without its Raw data sheet, an anonymous round's "other groups"), the
results' data version and settings (``tables.results_key``: a new response or a changed
setting makes a new one), the report's section stamps (the action register) and the drawing
code. Their hash, the *fingerprint*, names one ``ResultExport`` record:

- a record that is done, with its file in the storage, is sent at once;
- otherwise the record is made (or re-queued, when it failed or stopped moving) and the job
  ``build_export`` enqueued; a second request while it is queued or running joins it, so two
  requests never start two jobs;
- the job (``build``) claims the record, writes the file with the same code as before
  (``exports.answers_csv``, ``workbook.write_workbook``, ``report.build``: the files hold
  exactly what they held), updating its progress (and the raw answers' rows written of all),
  stores it (``survey.storage``, so any server can send it; the CSV and the workbook go from
  a temporary file, never whole in memory) and drops the files of the same export's older
  versions.

Who may take a file, and the audit record of each download, stay with the views
(``exports.record_download`` when the file leaves).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from survey import jobs, storage
from survey.database import begin_write
from survey.extensions import db
from survey.models import ResultExport, Round, User, utcnow
from survey.permissions import may_take_identified_answers
from survey.results import exports, file_cache, raw_store, report, workbook
from survey.results.exports import download_name, identifies_units, raw_count
from survey.results.tables import results_key, round_results

log = logging.getLogger(__name__)

# A queued or running export whose record has not moved for this long is taken as stopped (a
# worker killed half-way, or none running): the next request, or the retry button, queues it
# again. Building the largest workbook takes well under a minute between two progress steps.
STALLED_SECONDS = 15 * 60


@dataclass(frozen=True)
class Kind:
    extension: str
    mimetype: str
    what: str  # the download name's part: 2004-autumn-results.xlsx
    as_attachment: bool
    title: str


KINDS = {
    "csv": Kind("csv", "text/csv; charset=utf-8", "answers", True, _l("Raw answers (CSV)")),
    "xlsx": Kind("xlsx", workbook.XLSX_MIMETYPE, "results", True, _l("Excel workbook")),
    "pdf": Kind("pdf", "application/pdf", "report", False, _l("Management-review report")),
}

STEPS = {
    "queued": _l("Waiting for the worker to start"),
    "results": _l("Computing the results"),
    "sheets": _l("Writing the sheets"),
    "rows": _l("Writing the raw answers"),
    "sections": _l("Writing the report's sections and charts"),
    "layout": _l("Laying out the pages"),
    "storing": _l("Storing the file"),
    "done": _l("Ready"),
    "failed": _l("Failed"),
}


@dataclass(frozen=True)
class Spec:
    """One export of one round as it would be built now."""

    round_id: int
    kind: str
    language: str
    raw: bool
    fingerprint: str


def spec(round_: Round, kind: str, lang: str, user: User) -> Spec:
    """What ``user`` would get for ``kind`` in ``lang`` now: the workbook holds the Raw data
    sheet only for those who may take the round's raw answers (an anonymous round's name no
    unit); the report falls back to English without a CJK font."""
    if kind == "xlsx":
        raw = not identifies_units(round_) or may_take_identified_answers(user)
        name = workbook.file_name(round_, lang, raw)
    elif kind == "csv":  # the view refuses those who may not take them
        raw, name = True, f"answers/{workbook.file_name(round_, lang)}"  # same variants
    elif kind == "pdf":
        raw, lang = False, report.language(lang)
        name = report.file_name(round_, lang)
    else:
        raise ValueError(f"unknown export kind {kind!r}")
    depends_on = repr((round_.id, kind, name, results_key(round_), file_cache.code_tag()))
    return Spec(round_.id, kind, lang, raw, hashlib.sha256(depends_on.encode()).hexdigest())


def in_request(round_: Round) -> bool:
    """Whether the round's exports are made in the request (small enough) rather than by the
    background worker."""
    return raw_count(round_) <= current_app.config["EXPORT_IN_REQUEST_RESPONSES"]


def stalled(export: ResultExport, now: datetime) -> bool:
    return export.status in ("queued", "running") and (
        export.updated_at < now - timedelta(seconds=STALLED_SECONDS)
    )


def ready(export: ResultExport) -> bool:
    """Done, and its file is in the storage (a newer version may have replaced it)."""
    return (
        export.status == "done"
        and export.storage_key is not None
        and storage.exists(export.storage_key)
    )


def request(spec: Spec, user: User, now: datetime) -> tuple[ResultExport, bool]:
    """The export record of ``spec`` and whether a job must be enqueued for it: a new record,
    or one that failed, stopped moving or lost its file (queued again). A record queued or
    running joins: no second job. Commits."""
    export = _by_fingerprint(spec.fingerprint)
    if export is None:
        begin_write(db.session)
        export = ResultExport(round_id=spec.round_id, kind=spec.kind, language=spec.language,
                              raw=spec.raw, fingerprint=spec.fingerprint, status="queued",
                              progress=0, step="queued", requested_by_id=user.id,
                              created_at=now, updated_at=now)  # fmt: skip
        db.session.add(export)
        try:
            db.session.commit()
            return export, True
        except IntegrityError:  # the same request from another tab or server, a moment ago
            db.session.rollback()
            export = _by_fingerprint(spec.fingerprint)
    if export.status in ("queued", "running") and not stalled(export, now):
        return export, False
    if export.status == "done" and ready(export):
        return export, False
    return export, requeue(export, now)


def requeue(export: ResultExport, now: datetime) -> bool:
    """Queue a failed, stopped or file-less export again (the retry button); False when it is
    building or done. Commits."""
    if export.status in ("queued", "running") and not stalled(export, now):
        return False
    if export.status == "done" and ready(export):
        return False
    begin_write(db.session)
    export.status, export.progress, export.step, export.error = "queued", 0, "queued", None
    export.rows_done = export.rows_total = None
    export.updated_at, export.finished_at = now, None
    db.session.commit()
    return True


def _by_fingerprint(fingerprint: str) -> ResultExport | None:
    return db.session.scalar(select(ResultExport).where(ResultExport.fingerprint == fingerprint))


@jobs.task(retries=1, retry_delay=30)
def build_export(export_id: int) -> None:
    build(export_id)


def build(export_id: int) -> None:
    """The job: build the export's file, keep it in the storage, mark the record done (with
    progress on the way). A failure marks it failed with an incident number, logged with the
    traceback, and is raised again (the queue retries once)."""
    if not _claim(export_id):
        return  # done, gone, or another worker is building it
    export = db.session.get(ResultExport, export_id)
    made = None
    try:
        _progress(export, 5, "results")
        round_results(export.round)
        made = BUILDERS[export.kind](
            export,
            lambda percent, step, rows=None: _progress(_counted(export, rows), percent, step),
        )
        _progress(export, 95, "storing")
        begin_write(db.session)
        key = f"exports/round-{export.round_id}/{export.id}-{export.fingerprint[:16]}.{export.kind}"
        if isinstance(made, Path):
            storage.put_file(key, made)
            export.size = made.stat().st_size
        else:
            storage.put(key, made)
            export.size = len(made)
        export.storage_key = key
        export.status, export.progress, export.step = "done", 100, "done"
        export.finished_at = export.updated_at = utcnow()
        _drop_older_versions(export)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        incident = secrets.token_hex(4)
        log.exception("export %s failed: incident %s", export_id, incident)
        _fail(export_id, f"incident {incident} ({type(error).__name__})")
        raise
    finally:
        if isinstance(made, Path):
            made.unlink(missing_ok=True)


def _claim(export_id: int) -> bool:
    """Mark the export running, unless it is done or another worker is building it (a
    conditional UPDATE: of two workers given the same export, one builds)."""
    begin_write(db.session)
    now = utcnow()
    cutoff = now - timedelta(seconds=STALLED_SECONDS)
    claimed = db.session.execute(
        update(ResultExport)
        .where(
            ResultExport.id == export_id,
            or_(
                ResultExport.status.in_(("queued", "failed")),
                (ResultExport.status == "running") & (ResultExport.updated_at < cutoff),
            ),
        )
        .values(status="running", progress=1, step="results", error=None, updated_at=now)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _counted(export: ResultExport, rows: tuple[int, int] | None) -> ResultExport:
    """The export with the raw answers' rows written and in all (saved by ``_progress``)."""
    if rows is not None:
        export.rows_done, export.rows_total = rows
    return export


def _progress(export: ResultExport, percent: int, step: str) -> None:
    if (export.progress, export.step) == (percent, step) and not db.session.is_modified(export):
        return
    # Each write of the long job takes SQLite's write lock when it begins: a read transaction
    # that turned into a write after the server wrote meanwhile would fail as "locked".
    begin_write(db.session)
    export.progress, export.step, export.updated_at = percent, step, utcnow()
    db.session.commit()


def _fail(export_id: int, error: str) -> None:
    begin_write(db.session)
    export = db.session.get(ResultExport, export_id)
    if export is None:
        return
    export.status, export.step, export.error = "failed", "failed", error
    export.finished_at = export.updated_at = utcnow()
    db.session.commit()


def _scratch(export: ResultExport) -> Path:
    """A temporary file for the export's file (``build`` removes it once stored)."""
    fd, name = tempfile.mkstemp(prefix=f"export-{export.id}-", suffix=f".{export.kind}")
    os.close(fd)
    return Path(name)


def _answers(export: ResultExport, progress: Callable[..., None]) -> Path:
    path = _scratch(export)

    def told(written: int, total: int) -> None:
        progress(10 + int(80 * written / max(total, 1)), "rows", (written, total))

    # The responses not packed yet (raw_store) first: this export and the next read one row
    # per response. Done by the worker only: a respondent's submit writes nothing more.
    raw_store.fold(export.round)
    with path.open("w", encoding="utf-8", newline="") as out:
        for text in exports.answers_csv(export.round, export.language, progress=told):
            out.write(text)
    return path


def _workbook(export: ResultExport, progress: Callable[..., None]) -> Path:
    round_ = export.round
    results = round_results(round_)
    path = _scratch(export)
    rows: list[tuple[int, int]] = []

    def told(share: float) -> None:
        # The sheets, then the raw answers' rows (most of the time at scale), with their count.
        progress(10 + int(80 * share), "rows" if rows else "sheets", rows[-1] if rows else None)

    workbook.write_workbook(
        round_, results, export.language, path, export.raw,
        progress=told, rows=lambda written, total: rows.append((written, total)),
    )  # fmt: skip
    return path


def _report(export: ResultExport, progress: Callable[[int, str], None]) -> bytes:
    def told(share: float) -> None:
        progress(10 + int(80 * share), "sections" if share < 0.8 else "layout")

    return report.build(export.round, export.language, progress=told, forget_answers=True)


BUILDERS: dict[str, Callable[[ResultExport, Callable[..., None]], bytes | Path]] = {
    "csv": _answers,
    "xlsx": _workbook,
    "pdf": _report,
}


def _drop_older_versions(export: ResultExport) -> None:
    """Remove the records and files of the same export made for older data: nothing can
    ask for them again (their fingerprint is no longer anyone's). Only those requested
    before this one: a build of older data that finishes late leaves the newer file alone."""
    older = db.session.scalars(
        select(ResultExport).where(
            ResultExport.round_id == export.round_id,
            ResultExport.kind == export.kind,
            ResultExport.language == export.language,
            ResultExport.raw == export.raw,
            ResultExport.id < export.id,
            ResultExport.status.in_(("done", "failed")),
        )
    )
    for old in older:
        if old.storage_key:
            storage.delete(old.storage_key)
        db.session.delete(old)


def file(export: ResultExport) -> bytes:
    """The export's bytes; raises ``storage.Missing`` when it has none (not done, or replaced)."""
    if export.status != "done" or export.storage_key is None:
        raise storage.Missing(f"export {export.id}")
    return storage.get(export.storage_key)


def open_file(export: ResultExport) -> BinaryIO:
    """The export's file to send (from a shared folder in pieces); the caller closes it."""
    if export.status != "done" or export.storage_key is None:
        raise storage.Missing(f"export {export.id}")
    return storage.open_file(export.storage_key)


def file_name(export: ResultExport) -> str:
    kind = KINDS[export.kind]
    return download_name(export.round, kind.what, kind.extension)


def status(export: ResultExport, now: datetime) -> dict:
    """The export's state as the progress page and its JSON show it."""
    return {
        "status": export.status,
        "progress": export.progress,
        "step": str(STEPS.get(export.step or export.status, "")),
        "error": export.error,
        "stalled": stalled(export, now),
        "retry": export.status == "failed" or stalled(export, now),
        "rows": export.rows_done,
        "rows_total": export.rows_total,
    }
