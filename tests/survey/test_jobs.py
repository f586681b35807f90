"""The job queue for real: Huey's SQLite storage in the test's instance folder (and Redis), a
worker in another thread that takes the job and sends the mail; the periodic jobs' schedules;
the worker command; the health check when the queue is gone."""

from __future__ import annotations

import contextvars
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from flask import current_app
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import select

from survey import create_app, invitations, jobs, mail, offices, tenancy
from survey.extensions import db
from survey.mail import outbox_dir
from survey.models import MailMessage, RespondentGroup
from tests.conftest import _config
from tests.system import require_server

REDIS_URL = "redis://127.0.0.1:6379/5"


@pytest.fixture
def app_config() -> dict:
    return {"QUEUE_IMMEDIATE": False}


def _statuses() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(MailMessage.status).order_by(MailMessage.id)))


def _invite(make_round) -> None:
    round_ = make_round()
    invitations.send(invitations.issue_named(round_, "mayor,王市长,wang@sx.example\n"))


def test_the_queue_is_a_sqlite_file_in_the_instance_folder(app):
    assert not jobs.huey.immediate
    assert isinstance(jobs.huey.storage, SqliteStorage)
    assert Path(jobs.huey.storage.filename) == Path(app.instance_path) / "queue.sqlite3"
    assert jobs.queue_size() == 0


def test_a_job_waits_in_the_queue_until_a_worker_sends_it(app, make_round):
    _invite(make_round)
    assert _statuses() == ["queued"] and jobs.queue_size() == 1
    assert not outbox_dir().exists()

    # The worker: another thread, without the test's app context (the task pushes one).
    worker = threading.Thread(target=lambda: jobs.huey.execute(jobs.huey.dequeue()))
    worker.start()
    worker.join(30)
    assert _statuses() == ["sent"] and jobs.queue_size() == 0
    (message,) = outbox_dir().glob("*.eml")
    assert "王市长" in message.read_text("utf-8")
    assert message.stat().st_mode & 0o777 == 0o600  # it holds a personal link


def test_the_consumer_runs_the_queued_jobs(app, make_round):
    _invite(make_round)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer = jobs.huey.create_consumer(workers=2, worker_type="thread", periodic=False)
    consumer.start()
    try:
        deadline = time.monotonic() + 30
        while _statuses() != ["sent"] and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        consumer.stop(graceful=True)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert _statuses() == ["sent"]


def test_the_queue_can_live_in_redis(database_url, tmp_path, monkeypatch):
    require_server("127.0.0.1", 6379, "Redis")  # CI has it: there its absence fails
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(_config(database_url, QUEUE_IMMEDIATE=False, QUEUE_URL=REDIS_URL))
    with app.app_context():
        assert isinstance(jobs.huey.storage, RedisStorage)
        jobs.huey.flush()
        try:
            message = mail.queue("password_reset", "wang@sx.example", "s", "b")
            mail.dispatch([message])
            assert jobs.queue_size() == 1
            worker = threading.Thread(target=lambda: jobs.huey.execute(jobs.huey.dequeue()))
            worker.start()
            worker.join(30)
            assert _statuses() == ["sent"]
        finally:
            jobs.huey.flush()
            db.session.remove()
            db.engine.dispose()


def test_tests_run_the_jobs_inline(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    create_app(_config(database_url))
    assert jobs.huey.immediate and isinstance(jobs.huey.storage, MemoryStorage)


def _periodic(name: str):
    (task,) = [t for t in jobs.huey._registry._periodic_tasks if t.__name__ == name]
    return task()


def test_the_periodic_jobs_are_registered_with_their_schedules(app):
    close = _periodic("close_due_rounds_job")
    assert close.__module__ == "survey.rounds"
    assert close.validate_datetime(datetime(2026, 12, 5, 10, 15))
    assert not close.validate_datetime(datetime(2026, 12, 5, 10, 16))
    daily = _periodic("daily_reminders")
    assert daily.__module__ == "survey.corrective.reminders"
    assert daily.validate_datetime(datetime(2026, 12, 5, 0, 30))  # 08:30 in Shanghai
    assert not daily.validate_datetime(datetime(2026, 12, 5, 8, 30))


def test_the_worker_command_runs_the_consumer_with_two_threads_and_the_schedule(
    app, runner, monkeypatch
):
    started = {}

    class Consumer:
        def run(self) -> None:
            started["ran"] = True

    def create_consumer(**options):
        started.update(options)
        return Consumer()

    monkeypatch.setattr(jobs.huey, "create_consumer", create_consumer)
    result = runner.invoke(args=["worker"])
    assert result.exit_code == 0, result.output
    # SIGTERM (systemd, docker, the recipe's stop) is Huey's graceful signal here.
    assert started == {
        "workers": 2,
        "worker_type": "thread",
        "periodic": True,
        "max_delay": 1.0,
        "graceful_signal": "TERM",
        "ran": True,
    }
    # A second worker of a site leaves the schedule to the first.
    assert runner.invoke(args=["worker", "--no-periodic"]).exit_code == 0
    assert started["periodic"] is False


def test_the_worker_command_refuses_an_inline_queue(app, runner):
    jobs.huey._immediate = True
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0 and "immediate mode" in result.output


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_check_answers_503_naming_the_queue_when_it_is_gone(
    database_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "instance"))
    gone = f"redis://127.0.0.1:{_closed_port()}/0"
    app = create_app(_config(database_url, QUEUE_IMMEDIATE=False, QUEUE_URL=gone))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "ok", "queue": "unavailable"}
    with app.app_context():
        db.engine.dispose()


def test_two_workers_taking_the_same_message_at_once_send_it_once(app):
    message = mail.queue("invitation", "wang@sx.example", "s", "b")
    db.session.commit()
    ids, barrier = [message.id], threading.Barrier(2)

    def work() -> None:
        barrier.wait()
        mail.deliver.call_local(ids)  # a thread of its own: its own app context

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert len(list(outbox_dir().glob("*.eml"))) == 1
    db.session.rollback()
    assert (message.status, message.attempts) == ("sent", 1)


seen: list[str] = []


@jobs.task(retries=1, retry_delay=30)
def note_instance_path(tag: str) -> None:
    seen.append(f"{tag}:{current_app.instance_path}")


def test_a_task_runs_in_the_callers_or_the_registered_apps_context(app):
    seen.clear()
    # call_local: the task's body as the worker runs it (this module's app queues, see app_config)
    note_instance_path.call_local("inside")
    contextvars.Context().run(note_instance_path.call_local, "outside")  # no app context there
    assert seen == [f"inside:{app.instance_path}", f"outside:{app.instance_path}"]


def test_an_app_on_sqlite_loads_no_postgresql_driver_for_its_queue(tmp_path):
    # huey.storage imports psycopg when it is installed (its PostgreSQL storage, never used
    # here): every process on SQLite held 8-10 MB for nothing, a worker's report included.
    # Nor SciPy (analysis.alerts: 15 MB). On PostgreSQL, psycopg still imports as usual.
    code = (
        "import sys; from survey import create_app\n"
        f"create_app({{'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path / 'app.sqlite'}',"
        " 'SECRET_KEY': 'x', 'QUEUE_IMMEDIATE': False})\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
        "import psycopg, huey.storage; print(psycopg.__name__, huey.storage.psycopg)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SURVEY_INSTANCE_PATH": str(tmp_path / "instance")},
    )
    loaded, after = done.stdout.splitlines()[-2:]
    assert {"huey", "sqlalchemy"} <= set(loaded.split())
    assert {"psycopg", "scipy"} & set(loaded.split()) == set()
    assert after == "psycopg None"  # importable later; huey's PostgreSQL storage unused


@jobs.task()
def note_groups() -> None:
    seen.append(sorted(db.session.scalars(select(RespondentGroup.code))))


def _group(code: str) -> None:
    db.session.add(RespondentGroup(code=code, label_zh=code, label_en=code))
    db.session.commit()


def test_a_queued_job_works_for_the_office_that_queued_it(app):
    _group("alpha")
    beta = offices.create("beta", "乙", "Beta")
    db.session.commit()
    seen.clear()
    with tenancy.office(beta.id):
        _group("beta")
        note_groups()
    note_groups()
    # The worker: another thread and app context, with two offices and none chosen there.
    for _ in range(2):
        worker = threading.Thread(target=lambda: jobs.huey.execute(jobs.huey.dequeue()))
        worker.start()
        worker.join(30)
    assert seen == [["beta"], ["alpha"]]


@jobs.periodic_task(jobs.crontab(month="2", day="30"))  # never: run by hand here
def note_groups_daily() -> None:
    seen.append(sorted(db.session.scalars(select(RespondentGroup.code))))


def test_a_periodic_job_runs_once_for_each_office(app):
    _group("alpha")
    beta = offices.create("beta", "乙", "Beta")
    db.session.commit()
    with tenancy.office(beta.id):
        _group("beta")
    seen.clear()
    contextvars.Context().run(note_groups_daily.call_local)  # as the worker, no office chosen
    assert seen == [["alpha"], ["beta"]]
