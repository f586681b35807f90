"""Rendered charts (and other files derived from a round's data) kept in the instance folder.

A file is stored under ``<instance>/cache/round-<id>/<data version>-<code tag>/<name>``; the
data version is the tag of ``survey.results.RoundResults`` (count and highest id of the round's
responses and of the rounds it is compared with, and the round's settings) and the code tag a
hash of the code that draws, so a new response (or release) makes a new folder; an older
folder is removed when a file of the round is stored and no request can still be using it
(``IN_USE_SECONDS``). Files are written to a temporary
name and renamed into place, so every process of a server can share the cache and a reader
never sees half a file. Drawing twice at the same moment is harmless: both write the same
bytes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask import current_app

import analysis

# How long a version's folder is kept after it was last written to once a newer one exists:
# longer than any request that reads from it (a large workbook is sent in seconds).
IN_USE_SECONDS = 600
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,150}")
RESULTS = Path(__file__).resolve().parent
# The code that draws the files: a new release that changes it must not serve old drawings.
# Whole packages, so that a module added or moved there is covered without a list to keep.
DRAWING_CODE = (
    *sorted(Path(analysis.__file__).resolve().parent.rglob("*.py")),
    *sorted(RESULTS.rglob("*.py")),
    RESULTS.parent / "corrective" / "report_section.py",
)


@functools.cache
def code_tag() -> str:
    """A short hash of the drawing code, part of every cache folder's name. A file of
    ``DRAWING_CODE`` that is missing is an error, never silently left out of the hash."""
    digest = hashlib.sha256()
    for path in DRAWING_CODE:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def root() -> Path:
    return Path(current_app.instance_path) / "cache"


def _folder(round_id: int, version: str) -> Path:
    if not SAFE_NAME.fullmatch(version):
        raise ValueError(f"unsafe cache version {version!r}")
    return root() / f"round-{int(round_id)}" / f"{version}-{code_tag()}"


def _path(round_id: int, version: str, name: str) -> Path:
    if not SAFE_NAME.fullmatch(name):
        raise ValueError(f"unsafe cache name {name!r}")
    return _folder(round_id, version) / name


def cached_bytes(round_id: int, version: str, name: str, make: Callable[[], bytes]) -> bytes:
    """The stored bytes of ``name`` for this data version, made by ``make()`` only when missing."""
    path = _path(round_id, version, name)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = make()
    _store(path, lambda target: target.write_bytes(data))
    return data


def cached_file(round_id: int, version: str, name: str, make: Callable[[Path], None]) -> Path:
    """The path of ``name`` for this data version; ``make(path)`` writes it when missing (for
    large files such as workbooks, which should not pass through memory)."""
    path = _path(round_id, version, name)
    if not path.exists():
        _store(path, make)
    return path


def _store(path: Path, write: Callable[[Path], None]) -> None:
    try:
        _write(path, write)
    except FileNotFoundError:
        # Another process removed the folder meanwhile (it stored a newer version): once more.
        _write(path, write)
    _drop_other_versions(path.parent)


def _write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    os.close(fd)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _drop_other_versions(current: Path) -> None:
    """Remove the folders of the round's older data versions that no one can still be using:
    older than the current one and untouched for ``IN_USE_SECONDS``. Removing any other
    folder at once made concurrent downloads fail: a worker finishing a request for the
    previous data deleted the folder another worker was writing or sending the newest file
    from."""
    try:
        newest = current.stat().st_mtime
    except FileNotFoundError:
        return
    cutoff = min(newest, time.time()) - IN_USE_SECONDS
    for folder in current.parent.iterdir():
        try:
            stale = folder != current and folder.is_dir() and folder.stat().st_mtime < cutoff
        except FileNotFoundError:
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)


def clear(round_id: int | None = None) -> None:
    """Remove the cached files of one round, or of every round."""
    target = root() if round_id is None else root() / f"round-{int(round_id)}"
    shutil.rmtree(target, ignore_errors=True)
