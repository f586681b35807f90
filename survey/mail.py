"""Sending e-mail: through SMTP when MAIL_SERVER is configured, else into instance/outbox/ as
.eml files, so that in development every message can be read and nothing leaves the machine."""

from __future__ import annotations

import secrets
import smtplib
from email.message import EmailMessage
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app

from survey.models import utcnow


def address(text: str) -> str:
    """One e-mail address as typed, normalised (the domain in lower case); raises ValueError
    saying why it is not one. A comma, a second address or a line break is refused: each
    would send a personal link to someone else, or break the message's headers."""
    try:
        # No DNS look-up (the server may have no resolver for the office's mail); the tests'
        # addresses use the reserved .test domain, which email-validator accepts only so.
        found = validate_email(
            text.strip(), check_deliverability=False, test_environment=current_app.testing
        )
        return found.normalized
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None


def send(to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = current_app.config.get("MAIL_SENDER", "survey@localhost")
    message["To"] = to
    message["Subject"] = subject
    if current_app.config.get("MAIL_SERVER"):
        message.set_content(body)
        _smtp(message)
    else:
        # Plain 8-bit text, so that a developer can read the Chinese in the file as it is.
        message.set_content(body, cte="8bit")
        _outbox(message)


def _smtp(message: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 25)), timeout=30) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        smtp.send_message(message)


def outbox_dir() -> Path:
    return Path(current_app.instance_path) / "outbox"


def _outbox(message: EmailMessage) -> None:
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.eml"
    (folder / name).write_bytes(bytes(message))
