import subprocess
import sys

import analysis

FORBIDDEN = ("flask", "sqlalchemy", "survey", "questionnaires", "matplotlib.pyplot")


def test_importing_analysis_loads_no_app_code_and_no_pyplot():
    code = "import analysis, sys; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()  # fmt: skip
    leaked = [m for m in loaded if m in FORBIDDEN or m.split(".")[0] in FORBIDDEN
              or m.startswith("flask_")]  # fmt: skip
    assert leaked == []


def test_the_package_re_exports_its_public_api():
    for name in analysis.__all__:
        assert hasattr(analysis, name), name
