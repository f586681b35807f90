"""The pure packages stay pure: importing them loads no Flask, SQLAlchemy or survey code."""

import subprocess
import sys

import pytest

FORBIDDEN = (
    "flask",
    "flask_wtf",
    "flask_login",
    "flask_babel",
    "flask_sqlalchemy",
    "flask_migrate",
    "sqlalchemy",
    "survey",
)


@pytest.mark.parametrize("package", ["questionnaires", "analysis"])
def test_pure_package_imports_no_web_or_database_code(package):
    code = f"import {package}, sys; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    leaked = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert leaked == []
