"""Background jobs on Huey: mail, reminders, closing rounds, large exports.

One Huey instance for the process (``huey``), so that ``@task`` decorators work when their
modules are imported; ``init_app`` points its storage at what the configuration says:

- by default Huey's SQLite storage in the instance folder (``instance/queue.sqlite3``): one
  machine needs no broker;
- ``SURVEY_QUEUE_URL=redis://host:6379/N``: Redis, when several servers share the queue (the
  optional ``redis`` extra);
- immediate mode in tests (``app.testing``) or with ``SURVEY_QUEUE_IMMEDIATE=true``: a task runs
  inline when it is called, on an in-memory storage (a retry waits there, in the schedule).

A task's body runs inside the Flask app's context: the caller's when there is one (immediate
mode in a request), else a context of the app given to ``init_app`` (the worker:
``flask --app survey worker`` creates the app, then runs Huey's consumer).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from survey import tenancy


@contextmanager
def _not_importable(name: str) -> Iterator[None]:
    """Inside the block, ``import name`` fails as if it were not installed (unless it is
    imported already); after it, it imports as usual."""
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if sys.modules.get(name, ...) is None:
            del sys.modules[name]


# huey.storage imports psycopg whenever it is installed, for a PostgreSQL queue storage this
# app never uses: 8-10 MB of every process on SQLite, a worker's PDF report included. On
# PostgreSQL SQLAlchemy imports it anyway (after this block, as usual).
with _not_importable("psycopg"):
    from huey import Huey, crontab
    from huey.storage import RedisStorage, SqliteStorage

__all__ = ["crontab", "huey", "init_app", "periodic_task", "queue_size", "run_worker", "task"]

QUEUE_FILE = "queue.sqlite3"
WORKER_THREADS = 2
MAX_DELAY = 1.0

# Timestamps in UTC, so a periodic task's crontab is read in UTC too (08:30 in Shanghai is
# 00:30 UTC). storage_class is set again by init_app.
huey = Huey("survey", utc=True, storage_class=SqliteStorage, filename=":memory:")
_app: Flask | None = None


def init_app(app: Flask) -> None:
    """Point the one Huey instance at the app's queue (the last app initialised wins: one per
    process outside the tests)."""
    global _app
    _app = app
    url = app.config.get("QUEUE_URL")
    if url:
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": url}
    else:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        filename = str(Path(app.instance_path) / QUEUE_FILE)
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {"filename": filename}
    immediate = app.config.get("QUEUE_IMMEDIATE")
    # Set the flag itself: the property's setter would build a storage of the old kind first.
    huey._immediate = bool(app.testing if immediate is None else immediate)
    huey.storage = huey.create_storage()


def _in_app_context(func: Callable) -> Callable:
    @functools.wraps(func)
    def run(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        if _app is None:
            raise RuntimeError("survey.jobs.init_app(app) was not called in this process")
        with _app.app_context():
            return func(*args, **kwargs)

    return run


def _in_office(func: Callable) -> Callable:
    @functools.wraps(func)
    def run(*args, _office: int | str | None = None, **kwargs):
        if _office is None:  # .call_local(): the caller's office
            return func(*args, **kwargs)
        with tenancy.office(None if _office == tenancy.NO_OFFICE else _office):
            return func(*args, **kwargs)

    return run


class OfficeTask:
    """A Huey task that works for the office of whoever enqueued it: the job's rows are found
    in that office only (survey.tenancy), as the request's were. Enqueue by calling it (not
    ``.schedule()`` or ``.s()``, which would not carry the office)."""

    def __init__(self, queued) -> None:
        self._queued = queued

    def __call__(self, *args, **kwargs):
        office_id = tenancy.current_office_id()
        # With no office, the job works for none: it reads nothing of any office.
        office = tenancy.NO_OFFICE if office_id is None else office_id
        return self._queued(*args, _office=office, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._queued, name)


def task(**huey_kwargs) -> Callable:
    """``@task(retries=3, retry_delay=60)``: a Huey task whose body runs in the app's context,
    for the caller's office. Calling the decorated function enqueues it; ``.call_local(...)``
    runs it here and now."""

    def decorate(func: Callable):
        return OfficeTask(huey.task(**huey_kwargs)(_in_app_context(_in_office(func))))

    return decorate


def _each_office(func: Callable) -> Callable:
    @functools.wraps(func)
    def run():
        from survey.extensions import db
        from survey.models import Office

        ids = db.session.scalars(select(Office.id).order_by(Office.id)).all()
        outer = tenancy.current_office_id()  # the worker's: none (a test's: its own)
        for office_id in ids:
            # Each office on its own: a failure in one is logged and the others still run,
            # and no row of one stays in the session for the next.
            try:
                with tenancy.office(office_id):
                    func()
                    db.session.flush()
            except Exception:
                db.session.rollback()
                current_app.logger.exception("%s failed for office %s", func.__name__, office_id)
            finally:
                tenancy.forget_other_offices(outer)

    return run


def periodic_task(schedule: Callable, **huey_kwargs) -> Callable:
    """``@periodic_task(crontab(minute="5"))``: run by the worker on that schedule (UTC), once
    for each office, working for it."""

    def decorate(func: Callable):
        return huey.periodic_task(schedule, **huey_kwargs)(_in_app_context(_each_office(func)))

    return decorate


def queue_size() -> int:
    """How many jobs wait: asks the storage, so it fails when the queue cannot be reached (the
    health check's question), and enqueues nothing."""
    return huey.storage.queue_size()


def run_worker(threads: int = WORKER_THREADS, periodic: bool = True) -> None:
    """Huey's consumer in this process, on the app's queue; ``periodic``: it also runs the
    schedule (exactly one worker of a site should). Runs until SIGTERM (the jobs in hand
    finish first) or SIGINT (at once)."""
    if huey.immediate:
        raise RuntimeError("the queue is in immediate mode: jobs run inline, there is no worker")
    # Huey's own lines (each job taken, done, failed, retried) on standard error.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("huey").addHandler(handler)
    logging.getLogger("huey").setLevel(logging.INFO)
    current_app.logger.info("worker: %s threads on %s", threads, type(huey.storage).__name__)
    # An idle worker looks for a job at most every second (SQLite; Redis waits on the list).
    # SIGTERM (systemd, docker stop, the recipe's stop) lets the jobs in hand finish: Huey's
    # default takes SIGTERM as "stop now" and its threads die mid-job. SIGINT stops at once.
    consumer = huey.create_consumer(
        workers=threads,
        worker_type="thread",
        periodic=periodic,
        max_delay=MAX_DELAY,
        graceful_signal="TERM",
    )
    consumer.run()
