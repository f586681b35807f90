"""The ceiling for the submission benchmark: the least a Flask app can do for the same form.

The same URLs and steps as the survey (GET /r/<token> sets the session and answers 303 to
/r/i/<id>; that page renders a form with a csrf_token, a submission_key and the same number of
radio inputs; POST checks the CSRF token and inserts one row with the standard sqlite3 module,
then 303 to .../done; a second POST of the invitation gets 200 "already submitted"), so that
bench/load.py drives it exactly as it drives ours. SQLite runs with the settings the survey
uses (WAL, synchronous=FULL, busy_timeout, BEGIN IMMEDIATE for the write).

    CEILING_DB=/tmp/ceiling.sqlite gunicorn -w 4 'ceiling_app:create_app()'   (cwd bench/)
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3

from flask import Flask, abort, g, redirect, render_template_string, request, session

# The office survey as the mayors see it: 18 rating questions (1..5) and one choice question.
QUESTIONS = [f"rating_{n:02d}" for n in range(1, 19)]
CHOICES = ["phone", "email", "letter", "visit", "other"]

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Survey</title></head>
<body><main><h1>Client-satisfaction survey</h1>
<form method="post" action="/r/i/{{ invitation_id }}" novalidate>
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="submission_key" value="{{ key }}">
{% for q in questions %}<fieldset><legend>{{ q }}</legend>
{% for v in range(1, 6) %}<label><input type="radio" name="q_{{ q }}" value="{{ v }}">{{ v }}</label>
{% endfor %}<textarea name="q_{{ q }}__comment"></textarea></fieldset>
{% endfor %}<fieldset><legend>contact channel</legend>
{% for c in choices %}<label><input type="radio" name="q_contact_channel" value="{{ c }}">{{ c }}</label>
{% endfor %}</fieldset>
<button type="submit" name="action" value="submit">Submit</button></form></main></body></html>"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS invitation (id INTEGER PRIMARY KEY, token TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS response (
    id INTEGER PRIMARY KEY, invitation_id INTEGER UNIQUE NOT NULL REFERENCES invitation(id),
    submission_key TEXT UNIQUE NOT NULL, answers TEXT NOT NULL, submitted_at TEXT NOT NULL);
"""


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def create_database(path: str, count: int) -> list[str]:
    """A fresh database with `count` invitations; their tokens."""
    conn = connect(path)
    try:
        conn.executescript(SCHEMA)
        tokens = [secrets.token_urlsafe(32) for _ in range(count)]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO invitation (token) VALUES (?)", [(t,) for t in tokens])
        conn.execute("COMMIT")
    finally:
        conn.close()
    return tokens


def stored(path: str) -> tuple[dict[str, list[int]], int]:
    """({token: [answers per response]}, responses in total)."""
    conn = connect(path)
    try:
        rows = conn.execute(
            "SELECT i.token, r.answers FROM response r JOIN invitation i ON i.id = r.invitation_id"
        ).fetchall()
    finally:
        conn.close()
    found: dict[str, list[int]] = {}
    for token, answers in rows:
        found.setdefault(token, []).append(len(json.loads(answers)))
    return found, len(rows)


def create_app() -> Flask:
    app = Flask(__name__)
    app.secret_key = os.environ.get("SECRET_KEY", "ceiling-secret")
    path = os.environ["CEILING_DB"]

    def db() -> sqlite3.Connection:
        if "db" not in g:
            g.db = connect(path)
        return g.db

    @app.teardown_appcontext
    def close(_exc) -> None:
        conn = g.pop("db", None)
        if conn is not None:
            conn.close()

    @app.get("/r/<token>")
    def enter(token: str):
        row = db().execute("SELECT id FROM invitation WHERE token = ?", (token,)).fetchone()
        if row is None:
            abort(404)
        session["invitations"] = [*session.get("invitations", [])[-19:], row[0]]
        return redirect(f"/r/i/{row[0]}", code=303)

    def submitted(invitation_id: int) -> bool:
        return (
            db()
            .execute("SELECT 1 FROM response WHERE invitation_id = ?", (invitation_id,))
            .fetchone()
            is not None
        )

    @app.get("/r/i/<int:invitation_id>")
    def page(invitation_id: int):
        if invitation_id not in session.get("invitations", []):
            abort(404)
        if submitted(invitation_id):
            return "already submitted"
        session.setdefault("csrf", secrets.token_urlsafe(16))
        return render_template_string(
            PAGE,
            invitation_id=invitation_id,
            csrf=session["csrf"],
            key=secrets.token_urlsafe(24),
            questions=QUESTIONS,
            choices=CHOICES,
        )

    @app.post("/r/i/<int:invitation_id>")
    def submit(invitation_id: int):
        if invitation_id not in session.get("invitations", []):
            abort(404)
        if request.form.get("csrf_token") != session.get("csrf"):
            abort(400)
        answers = {q: int(request.form[f"q_{q}"]) for q in QUESTIONS}
        answers["contact_channel"] = request.form["q_contact_channel"]
        conn = db()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO response (invitation_id, submission_key, answers,"
                " submitted_at) VALUES (?, ?, ?, datetime('now'))",
                (invitation_id, request.form["submission_key"], json.dumps(answers)),
            )
            conn.execute("COMMIT")
        except sqlite3.IntegrityError:
            conn.execute("ROLLBACK")
            return "already submitted"
        return redirect(f"/r/i/{invitation_id}/done", code=303)

    @app.get("/r/i/<int:invitation_id>/done")
    def done(invitation_id: int):
        return "thank you"

    return app
