"""The stand-in job queue (the real one comes from the jobs branch): a task's body runs in
the app context, the caller's or the registered app's."""

from __future__ import annotations

import contextvars

from flask import current_app

from survey import jobs

seen: list[str] = []


@jobs.task(retries=1, retry_delay=30)
def note_instance_path(tag: str) -> None:
    seen.append(f"{tag}:{current_app.instance_path}")


def test_a_task_runs_in_the_callers_or_the_registered_apps_context(app):
    seen.clear()
    note_instance_path("inside")
    contextvars.Context().run(note_instance_path, "outside")  # no app context there
    assert seen == [f"inside:{app.instance_path}", f"outside:{app.instance_path}"]
