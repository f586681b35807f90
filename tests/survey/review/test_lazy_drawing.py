"""A results page loads no drawing library: its charts are images the browser asks for
separately, and their alt text is written without matplotlib (issue 20: a fresh process paid a
quarter of a second for matplotlib's figures and axes on its first dashboard)."""

from __future__ import annotations

import json
import subprocess
import sys

from survey.extensions import db
from tests.factories import PASSWORD

# Run in a process of its own: the suite's process has long loaded matplotlib for other tests.
CODE = """
import json, sys
from survey import create_app
config = json.loads(sys.argv[1])
app = create_app(config)
client = app.test_client()
login = client.post("/login", data={"email": config["_EMAIL"], "password": config["_PASSWORD"]})
assert login.status_code == 302, login.status_code
before = set(sys.modules)
page = client.get(config["_PATH"])
assert page.status_code == 200, page.status_code
assert b'<img ' in page.data and b'alt="' in page.data
drawing = sorted(m for m in set(sys.modules) - before
                 if m.split(".")[0] in {"matplotlib", "mpl_toolkits", "analysis"}
                 and (m.startswith(("matplotlib", "mpl_toolkits")) or m == "analysis.charts"))
print(json.dumps(drawing))
"""


def _loaded_by(app, path: str, email: str, tmp_path) -> list[str]:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "WTF_CSRF_ENABLED": False,
        "BASE_URL": "https://survey.test",
        "_EMAIL": email,
        "_PASSWORD": PASSWORD,
        "_PATH": path,
    }
    env = {"SURVEY_INSTANCE_PATH": str(tmp_path / "child-instance"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", CODE, json.dumps(config)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_dashboard_and_a_category_page_load_no_drawing_code(
    app, make_user, two_rounds, tmp_path
):
    _, round_ = two_rounds
    round_.status = "closed"  # an open round's figures are sealed
    db.session.commit()
    lead = make_user(role="quality_lead")
    for path in (
        f"/review/rounds/{round_.id}?lang=zh",
        f"/review/rounds/{round_.id}/categories/services.documents?lang=en",
    ):
        assert _loaded_by(app, path, lead.email, tmp_path) == [], path
