"""What the operations tests share: the app's command line run as an operator runs it (another
process, configured by the environment only), a scratch PostgreSQL database, and the rule for
skipping when no PostgreSQL server answers (outside CI: tests/system.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.system import require_server

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def operator_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment of a shell on the server: nothing of this test process's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "SURVEY_"))}
    env.pop("SECRET_KEY", None)
    env.update(
        DATABASE_URL=database_url,
        SURVEY_INSTANCE_PATH=str(instance),
        BASE_URL="http://survey.test",
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    )
    env.update(extra)
    return env


def flask(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "survey", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr[-3000:]}"
        )
    return done


def demo_lines(output: str, kind: str) -> list[list[str]]:
    """The `demo` command's lines of one kind (`login`, `invite`, `round`), split into words."""
    return [line.split()[1:] for line in output.splitlines() if line.startswith(kind + " ")]


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database named test_<prefix>_<random> (its libpq URL), dropped
    afterwards, connections included."""
    import psycopg

    require_server("127.0.0.1", 5432, "PostgreSQL")
    name = f"test_{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        drop_postgres(name)


def drop_postgres(name: str) -> None:
    import psycopg

    assert name.startswith("test_")
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def filled_survey(page: str) -> tuple[str, dict[str, str]]:
    """The respondent's form on `page`, every question answered with its last choice: (the
    form's action, the fields to post), hidden fields (submission key, CSRF token) included."""
    from bench.load import ATTR, FORM_ACTION, INPUT

    action = FORM_ACTION.search(page)
    assert action, page[:2000]
    data = {"action": "submit"}
    for tag in INPUT.findall(page):
        attrs = dict(ATTR.findall(tag))
        name, kind = attrs.get("name"), attrs.get("type", "text").lower()
        if name and (kind == "radio" or (kind == "hidden" and name != "action")):
            data[name] = attrs.get("value", "")
    return action.group(1), data
