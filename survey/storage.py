"""Files every app server can read: evidence files of corrective actions and prepared exports.

A file is bytes under a key such as ``attachments/3f2a…`` (letters, digits, ``._-`` and ``/``
between parts; never ``..``). Two backends, chosen by configuration:

- **the database** (the default): a ``stored_file`` row per key, the bytes in a binary column.
  Nothing to set up, and a file is written in the caller's transaction, so that it exists
  exactly when the row that names it does. Both SQLite and PostgreSQL hold up to 1 GB in one
  value, far above the evidence limit (``ACTION_ATTACHMENT_MAX_BYTES``, default 5 MB) and the
  workbooks of large rounds (tens of MB).
- **a shared folder** (``SHARED_FOLDER``, e.g. ``SURVEY_SHARED_FOLDER=/mnt/survey`` on an NFS
  mount every server has): a file per key, written to a temporary name in its folder and
  renamed into place (``os.replace``), so no server ever reads half a file; files and folders
  are readable by the app's user only (0600 and 0700).

Both raise ``Missing`` (a ``LookupError``) for a key that holds no file.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

import sqlalchemy as sa
from flask import current_app

from survey.extensions import db
from survey.models import StoredFile, utcnow

COPY_CHUNK = 1024 * 1024
KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}(/[a-z0-9][a-z0-9._-]{0,99}){0,3}")


class Missing(LookupError):
    """No file is stored under the key."""


class Backend(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def put_file(self, key: str, path: Path) -> None: ...
    def get(self, key: str) -> bytes: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...


class DatabaseBackend:
    """Files as rows of ``stored_file``, added to (and committed with) the current session."""

    def put(self, key: str, data: bytes) -> None:
        stored = db.session.get(StoredFile, key)
        if stored is None:
            stored = StoredFile(key=key)
            db.session.add(stored)
        stored.data, stored.size, stored.stored_at = data, len(data), utcnow()

    def put_file(self, key: str, path: Path) -> None:
        # One value holds the whole file: a site whose exports run to hundreds of megabytes
        # sets a shared folder, where files are copied and sent in pieces.
        self.put(key, path.read_bytes())

    def get(self, key: str) -> bytes:
        data = db.session.scalar(sa.select(StoredFile.data).where(StoredFile.key == key))
        if data is None:
            raise Missing(key)
        return bytes(data)

    def open(self, key: str) -> BinaryIO:
        return io.BytesIO(self.get(key))

    def delete(self, key: str) -> None:
        db.session.execute(sa.delete(StoredFile).where(StoredFile.key == key))

    def exists(self, key: str) -> bool:
        return (
            db.session.scalar(sa.select(StoredFile.size).where(StoredFile.key == key)) is not None
        )


class FolderBackend:
    """Files in a folder that every server mounts (NFS or similar)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def put(self, key: str, data: bytes) -> None:
        self._write(key, lambda f: f.write(data))

    def put_file(self, key: str, path: Path) -> None:
        with open(path, "rb") as source:
            self._write(key, lambda f: shutil.copyfileobj(source, f, COPY_CHUNK))

    def _write(self, key: str, write) -> None:
        path = self._path(key)
        self._make_folders(path.parent)
        # mkstemp creates the file readable and writable by its owner only (0600).
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())  # on the disk (the NFS server) before it has its name
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def _make_folders(self, folder: Path) -> None:
        # The shared folder itself is never made: missing, it is an unmounted share, and files
        # written to a local folder of that name would be this server's alone.
        if not self.root.is_dir():
            raise FileNotFoundError(f"the shared folder {self.root} does not exist (mounted?)")
        missing = []
        while folder != self.root and not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for made in reversed(missing):
            made.mkdir(mode=0o700, exist_ok=True)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise Missing(key) from None

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise Missing(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def backend() -> Backend:
    """The configured backend: the shared folder when ``SHARED_FOLDER`` is set, else the
    database."""
    folder = current_app.config.get("SHARED_FOLDER")
    return FolderBackend(folder) if folder else DatabaseBackend()


def _checked(key: str) -> str:
    if not KEY.fullmatch(key) or ".." in key:
        raise ValueError(f"unsafe storage key {key!r}")
    return key


def put(key: str, data: bytes) -> None:
    """Store ``data`` under ``key``, replacing what was there. In the database, the file is
    written when the caller commits."""
    backend().put(_checked(key), data)


def put_file(key: str, path: Path) -> None:
    """Store the file at ``path`` under ``key``, as ``put`` does; a shared folder copies it in
    pieces, never holding it whole."""
    backend().put_file(_checked(key), path)


def get(key: str) -> bytes:
    """The bytes stored under ``key``; raises ``Missing`` when there are none."""
    return backend().get(_checked(key))


def open_file(key: str) -> BinaryIO:
    """The file under ``key`` to read (from a shared folder: from the disk, in pieces);
    raises ``Missing`` when there is none. The caller closes it."""
    return backend().open(_checked(key))


def delete(key: str) -> None:
    """Remove the file under ``key``, if any."""
    backend().delete(_checked(key))


def exists(key: str) -> bool:
    """Whether a file is stored under ``key`` (without reading it)."""
    return backend().exists(_checked(key))
