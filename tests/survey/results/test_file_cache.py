"""Files derived from a round's data, kept per data version in the instance folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from survey.results import file_cache as chart_cache


def test_bytes_are_made_once_per_version(app):
    calls = []

    def make():
        calls.append(1)
        return b"png"

    assert chart_cache.cached_bytes(1, "10-abc", "rates-zh-100.png", make) == b"png"
    assert chart_cache.cached_bytes(1, "10-abc", "rates-zh-100.png", make) == b"png"
    assert len(calls) == 1


def _age(folder: Path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(folder, (when, when))


def test_a_new_version_replaces_the_old_files_once_no_one_can_be_using_them(app):
    chart_cache.cached_bytes(1, "10-abc", "a.png", lambda: b"old")
    (old,) = list((chart_cache.root() / "round-1").iterdir())
    _age(old, chart_cache.IN_USE_SECONDS + 1)
    assert chart_cache.cached_bytes(1, "11-def", "a.png", lambda: b"new") == b"new"
    folders = list((chart_cache.root() / "round-1").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("11-def")


def test_a_request_of_an_older_version_never_removes_a_newer_one(app):
    # Two workers: one makes the file of the newest data, the other finishes a request that
    # began before the last response. Neither may remove what the other reads or writes.
    newer = chart_cache.cached_file(1, "12-new", "report-en.pdf", lambda p: p.write_bytes(b"%PDF"))
    chart_cache.cached_bytes(1, "11-old", "a.png", lambda: b"old")
    assert newer.read_bytes() == b"%PDF"
    # A folder written to moments ago is kept even when it is the older one.
    chart_cache.cached_bytes(1, "13-newest", "a.png", lambda: b"x")
    assert newer.exists()


def test_rounds_keep_their_own_files(app):
    chart_cache.cached_bytes(1, "10-abc", "a.png", lambda: b"one")
    assert chart_cache.cached_bytes(2, "10-abc", "a.png", lambda: b"two") == b"two"
    assert chart_cache.cached_bytes(1, "10-abc", "a.png", lambda: b"again") == b"one"


def test_a_file_is_written_by_its_maker(app):
    path = chart_cache.cached_file(
        3, "1-x", "report-en.pdf", lambda target: target.write_bytes(b"%PDF")
    )
    assert path.read_bytes() == b"%PDF" and path.parent.parent == chart_cache.root() / "round-3"


def test_a_failed_maker_leaves_no_file(app):
    def broken(target):
        target.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        chart_cache.cached_file(3, "1-x", "report-en.pdf", broken)
    assert not list((chart_cache.root() / "round-3").rglob("*.pdf"))


@pytest.mark.parametrize("name", ["../secret", "a/b.png", ".hidden", ""])
def test_unsafe_names_are_refused(app, name):
    with pytest.raises(ValueError):
        chart_cache.cached_bytes(1, "1-x", name, lambda: b"")


def test_clear_removes_a_round(app):
    chart_cache.cached_bytes(4, "1-x", "a.png", lambda: b"x")
    chart_cache.clear(4)
    assert not (chart_cache.root() / "round-4").exists()


def test_the_code_tag_covers_every_module_that_draws():
    import analysis
    import survey.results

    drawn = {path.resolve() for path in chart_cache.DRAWING_CODE}
    for package in (analysis, survey.results):
        for path in Path(package.__file__).resolve().parent.rglob("*.py"):
            assert path in drawn, path
    assert all(path.exists() for path in drawn)


def test_a_missing_drawing_module_is_an_error_not_a_silent_gap(monkeypatch, tmp_path):
    monkeypatch.setattr(chart_cache, "DRAWING_CODE", (tmp_path / "gone.py",))
    chart_cache.code_tag.cache_clear()
    try:
        with pytest.raises(FileNotFoundError):
            chart_cache.code_tag()
    finally:
        chart_cache.code_tag.cache_clear()
