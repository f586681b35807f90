"""The app starts without the PDF report's drawing code (ReportLab, matplotlib): the
corrective-action register registers its section through the report's registry alone, and
the report loads them when it is built (issue 20: about 30 MB less in every process)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

CODE = """
import sys
from survey import create_app
create_app()
from survey.results import report
from survey.results.report import registry
assert "reportlab" not in sys.modules, "create_app() loaded reportlab"
assert "matplotlib" not in sys.modules, "create_app() loaded matplotlib"
orders = [order for order, _function in registry.SECTIONS]
assert orders == [60], orders  # the register, before the report's own sections load
assert report.build is not None
assert "reportlab" in sys.modules
assert 60 in [order for order, _function in registry.SECTIONS] and len(registry.SECTIONS) > 1
"""


def test_create_app_leaves_the_report_s_drawing_code_unloaded(tmp_path) -> None:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "SURVEY_INSTANCE_PATH": str(tmp_path)}
    subprocess.run([sys.executable, "-c", CODE], check=True, cwd=tmp_path, env=env)
