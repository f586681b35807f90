"""Evidence files of corrective actions: checked by size and by content, kept in the storage
every server shares (``survey.storage``: the database or a shared folder) by a random name,
and served only as downloads of a fixed, harmless type.

The type is decided by the file's extension AND its first bytes (a PDF must start with
``%PDF-``, a PNG with its signature, ...); text files must be UTF-8 without NUL bytes. What the
browser sent as Content-Type is ignored. A file is always served with the type of this table,
``Content-Disposition: attachment``, ``X-Content-Type-Options: nosniff`` and a sandboxing CSP,
so that no upload is ever run as HTML or script in the site's origin.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Response, abort, current_app, send_file
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from survey import storage
from survey.corrective.access import can_edit
from survey.corrective.history import add_event
from survey.corrective.states import ACTIVE, ActionError, _
from survey.extensions import db
from survey.models import ActionAttachment, CorrectiveAction, User

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
log = logging.getLogger(__name__)
ZIP = (b"PK\x03\x04",)


@dataclass(frozen=True)
class Kind:
    mimetype: str
    signatures: tuple[bytes, ...] | None  # None: UTF-8 text


KINDS = {
    "pdf": Kind("application/pdf", (b"%PDF-",)),
    "png": Kind("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": Kind("image/jpeg", (b"\xff\xd8\xff",)),
    "docx": Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    "xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    "txt": Kind("text/plain; charset=utf-8", None),
    "csv": Kind("text/csv; charset=utf-8", None),
}
ALIASES = {"jpeg": "jpg"}


def max_bytes() -> int:
    return int(current_app.config.get("ACTION_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def storage_key(stored_name: str) -> str:
    """Where an attachment's bytes are kept in ``survey.storage``."""
    return f"attachments/{stored_name}"


def kind_of(filename: str, head: bytes) -> str | None:
    """The table's kind for a file name and its content, or None if they are not allowed or
    do not agree."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    ext = ALIASES.get(ext, ext)
    kind = KINDS.get(ext)
    if kind is None:
        return None
    if kind.signatures is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return ext if b"\0" not in head else None
    return ext if head.startswith(kind.signatures) else None


def display_name(filename: str) -> str:
    """The name as shown: no folders, no control characters, at most 200 characters."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", filename.replace("\\", "/").rsplit("/", 1)[-1])
    return name.strip()[-200:] or "file"


def store(
    action: CorrectiveAction, upload: FileStorage, actor: User, now: datetime
) -> ActionAttachment:
    """Check and keep an uploaded file; raises ActionError saying what is wrong with it."""
    # Evidence belongs to the open loop, added by those who answer for the action: the owner
    # or the quality lead (the owner of one step updates that step, not the action's file).
    if not can_edit(actor, action):
        raise ActionError(_("Only the action's owner or the quality lead can attach files."))
    if action.status not in ACTIVE:
        raise ActionError(_("The action is closed or cancelled; reopen it to attach files."))
    content = upload.stream.read(max_bytes() + 1)
    if len(content) > max_bytes():
        raise ActionError(_("The file is larger than %(mb)s MB.", mb=max_bytes() // 2**20))
    if not content:
        raise ActionError(_("The file is empty."))
    name = display_name(upload.filename or "")
    kind = kind_of(name, content)
    if kind is None:
        raise ActionError(
            _(
                "Only PDF, PNG, JPEG, Word (.docx), Excel (.xlsx), text and CSV "
                "files can be attached, and their content must match the name."
            )
        )
    stored = secrets.token_hex(16)
    storage.put(storage_key(stored), content)
    attachment = ActionAttachment(
        action=action,
        filename=name,
        stored_name=stored,
        kind=kind,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by_id=actor.id,
        uploaded_at=now,
    )
    db.session.add(attachment)
    add_event(
        action,
        "attachment",
        actor,
        now,
        text=name,
        data={"size": len(content), "sha256": attachment.sha256},
    )
    return attachment


def serve(attachment: ActionAttachment) -> Response:
    """The file as a download of its checked type; 404 (and a line in the log) when its bytes
    are missing, e.g. a file that stayed on another server's disk when it was moved into the
    shared storage (migration 0012)."""
    try:
        content = storage.get(storage_key(attachment.stored_name))
    except storage.Missing:
        log.error("attachment %s: no file stored under %s", attachment.id, attachment.stored_name)
        abort(404)
    response = send_file(
        io.BytesIO(content),
        mimetype=KINDS[attachment.kind].mimetype,
        as_attachment=True,
        download_name=attachment.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def import_folder(source: Path) -> tuple[list[ActionAttachment], list[ActionAttachment]]:
    """Copy into the shared storage the evidence files it lacks from a folder where an older
    release kept them (``instance/attachments/`` of one server): returns the attachments
    copied and those still missing (neither in the storage nor in ``source``). A file whose
    content does not match its recorded SHA-256 is not copied and counts as missing."""
    copied, missing = [], []
    for attachment in db.session.scalars(select(ActionAttachment).order_by(ActionAttachment.id)):
        key = storage_key(attachment.stored_name)
        if storage.exists(key):
            continue
        try:
            content = (source / attachment.stored_name).read_bytes()
        except FileNotFoundError:
            content = None
        if content is None or hashlib.sha256(content).hexdigest() != attachment.sha256:
            missing.append(attachment)
            continue
        storage.put(key, content)
        copied.append(attachment)
    return copied, missing
