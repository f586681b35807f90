"""``import analysis`` leaves matplotlib unloaded: charts load on first use (issue 20)."""

import subprocess
import sys

CODE = """
import sys
import analysis
assert "matplotlib" not in sys.modules, "import analysis loaded matplotlib"
assert analysis.charts.to_png is not None
assert "matplotlib" in sys.modules
"""


def test_import_analysis_leaves_matplotlib_unloaded() -> None:
    subprocess.run([sys.executable, "-c", CODE], check=True)
