"""Several servers on one machine: PostgreSQL, Redis, two app servers and (when this release has
it) one background worker, started and stopped together. The recipe of the README's
"Production" section, runnable: for trying the setup, and for the test that checks it
(tests/ops/test_multi_server.py). On real machines each process runs under its own systemd
unit with the same environment.

    .venv/bin/python scripts/multi_server.py start --database-url postgresql://... \\
        [--redis-url redis://127.0.0.1:6379/0] [--ports 8001 8002] [--run-dir run/multi]
    .venv/bin/python scripts/multi_server.py status [--run-dir run/multi]
    .venv/bin/python scripts/multi_server.py stop [--run-dir run/multi]

`start` creates the database if it does not exist, runs the migrations once (`flask init-db`),
starts one gunicorn per port, each with its own instance folder (as on two machines) and all
with one SECRET_KEY, throttling counts on Redis (SURVEY_RATELIMIT_STORAGE_URI), and the worker
on a Redis queue (SURVEY_QUEUE_URL) if `flask worker` exists; then it waits until every server's
/healthz answers 200. The run folder keeps what was started (`processes.json`: pid, port, log of
each), the logs (`*.log`: the JSON request lines and gunicorn's own), and the SECRET_KEY made
for the run (`secret_key`, unless SECRET_KEY is set). Every SURVEY_* and MAIL_* variable of the
caller's environment is passed on to every process. `stop` stops them (SIGTERM, then SIGKILL
after 30 s) and leaves the database.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STATE = "processes.json"
HEALTH_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
PASSED_ON = ("SURVEY_", "MAIL_")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--run-dir", type=Path, default=ROOT / "run" / "multi")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--ports", type=int, nargs="+", default=[8001, 8002])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument(
        "--no-worker", action="store_true", help="no background worker, even if there is one"
    )
    args = parser.parse_args(argv)
    run_dir = args.run_dir.resolve()
    if args.action == "stop":
        return stop(run_dir)
    if args.action == "status":
        return status(run_dir)
    if not args.database_url or not args.database_url.startswith(("postgres://", "postgresql")):
        parser.error("--database-url (or DATABASE_URL) must name a PostgreSQL database")
    return start(args, run_dir)


# --------------------------------------------------------------------------- start


def start(args: argparse.Namespace, run_dir: Path) -> int:
    if (run_dir / STATE).exists():
        print(f"{run_dir / STATE} exists: already started? `stop` first", file=sys.stderr)
        return 1
    run_dir.mkdir(parents=True, exist_ok=True)
    env = base_env(args, run_dir)
    worker = not args.no_worker and has_worker_command(env)
    if worker:  # the servers put jobs on the queue the worker takes them from
        env.setdefault("SURVEY_QUEUE_URL", args.redis_url)
    create_database(args.database_url)
    flask(env, "init-db")  # once, before any server starts
    started: list[dict] = []
    try:
        for port in args.ports:
            started.append(start_app(env, run_dir, args.host, port, args.workers))
            save(run_dir, started)
        if worker:
            started.append(start_worker(env, run_dir))
            save(run_dir, started)
        for process in started:
            if process["kind"] == "app":
                wait_healthy(process)
    except BaseException as error:
        print(f"start failed: {error}", file=sys.stderr)
        stop(run_dir)
        return 1
    for process in started:
        where = f" http://{process['host']}:{process['port']}" if process["kind"] == "app" else ""
        print(f"{process['kind']} {process['pid']}{where} log {process['log']}")
    return 0


def base_env(args: argparse.Namespace, run_dir: Path) -> dict[str, str]:
    """What every process gets: the caller's environment with the recipe's settings."""
    env = dict(os.environ)
    env["DATABASE_URL"] = args.database_url
    env["SECRET_KEY"] = env.get("SECRET_KEY") or run_secret_key(run_dir)
    env.setdefault("BASE_URL", f"http://{args.host}:{args.ports[0]}")
    env.setdefault("SURVEY_RATELIMIT_STORAGE_URI", args.redis_url)
    env["PYTHONUNBUFFERED"] = "1"
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("FLASK_APP", None)
    return env


def run_secret_key(run_dir: Path) -> str:
    """One key for every server of the run, kept in the run folder (owner only)."""
    path = run_dir / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()


def create_database(url: str) -> None:
    """CREATE DATABASE when it does not exist (connecting to the server's `postgres` database
    with the same user)."""
    import psycopg
    from sqlalchemy.engine import make_url

    target = make_url(url)
    name = target.database
    admin = target.set(drivername="postgresql", database="postgres")
    libpq = admin.render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"database {name} created")


def flask(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(BIN / "flask"), "--app", "survey", *args],
        env=env,
        cwd=ROOT,
        check=True,
        stdin=subprocess.DEVNULL,
    )


def has_worker_command(env: dict[str, str]) -> bool:
    """Whether this release has the background worker (`flask worker`)."""
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "survey", "worker", "--help"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    return done.returncode == 0


def spawn(command: list[str], env: dict[str, str], log: Path) -> int:
    """Start a process detached from this one (its own session: it outlives `start`), its
    standard output and error appended to `log`."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return process.pid


def start_app(env: dict[str, str], run_dir: Path, host: str, port: int, workers: int) -> dict:
    instance = run_dir / f"app-{port}" / "instance"  # each server its own, as on two machines
    instance.mkdir(parents=True, exist_ok=True)
    log = run_dir / f"app-{port}.log"
    command = [
        str(BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"{host}:{port}",
        "survey:create_app()",
    ]
    pid = spawn(command, {**env, "SURVEY_INSTANCE_PATH": str(instance)}, log)
    return {"kind": "app", "pid": pid, "host": host, "port": port, "log": str(log)}


def start_worker(env: dict[str, str], run_dir: Path) -> dict:
    instance = run_dir / "worker" / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    log = run_dir / "worker.log"
    command = [str(BIN / "flask"), "--app", "survey", "worker"]
    pid = spawn(command, {**env, "SURVEY_INSTANCE_PATH": str(instance)}, log)
    return {"kind": "worker", "pid": pid, "log": str(log)}


def save(run_dir: Path, started: list[dict]) -> None:
    (run_dir / STATE).write_text(json.dumps(started, indent=2) + "\n")


def health(process: dict) -> int | None:
    """The status /healthz answers, or None when the server does not answer."""
    url = f"http://{process['host']}:{process['port']}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_healthy(process: dict) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if not alive(process["pid"]):
            tail = Path(process["log"]).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{process['kind']} on port {process['port']} exited:\n{tail}")
        if health(process) == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"/healthz on port {process['port']} not 200 in {HEALTH_TIMEOUT:.0f} s")


# --------------------------------------------------------------------------- stop and status


def load(run_dir: Path) -> list[dict]:
    try:
        return json.loads((run_dir / STATE).read_text())
    except FileNotFoundError:
        return []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def ours(process: dict) -> bool:
    """The pid still names the process we started (not one that reused the number): it is
    running from this repository's virtualenv."""
    try:
        command = Path(f"/proc/{process['pid']}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return alive(process["pid"])  # no /proc: trust the pid
    return any(str(BIN).encode() in part for part in command)


def stop(run_dir: Path) -> int:
    started = load(run_dir)
    running = [p for p in started if alive(p["pid"]) and ours(p)]
    for process in running:
        os.kill(process["pid"], signal.SIGTERM)  # gunicorn: graceful, workers finish requests
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and any(alive(p["pid"]) for p in running):
        time.sleep(0.1)
    for process in running:
        if alive(process["pid"]):
            os.kill(process["pid"], signal.SIGKILL)
            print(f"{process['kind']} {process['pid']} killed after {STOP_TIMEOUT:.0f} s")
    (run_dir / STATE).unlink(missing_ok=True)
    for process in started:
        print(f"{process['kind']} {process['pid']} stopped")
    return 0


def status(run_dir: Path) -> int:
    """One line per process; exit status 1 if any is down or unhealthy."""
    started = load(run_dir)
    if not started:
        print("nothing started")
        return 1
    healthy = True
    for process in started:
        up = alive(process["pid"])
        line = f"{process['kind']} {process['pid']} {'running' if up else 'down'}"
        if process["kind"] == "app":
            code = health(process) if up else None
            line += f" port {process['port']} /healthz {code}"
            up = up and code == 200
        healthy = healthy and up
        print(line)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
