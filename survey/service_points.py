"""Service points: the counters, halls and web services the public rates, each with its public
link (``/s/<link_key>``) printed as a QR code on its poster (``survey.posters``)."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from survey import audit
from survey.extensions import db
from survey.models import POINT_KINDS, ServicePoint
from survey.models.feedback import _link_key

KIND_LABELS = {
    "counter": _l("Service counter"),
    "hall": _l("Service hall"),
    "web": _l("Online service"),
}
assert tuple(KIND_LABELS) == POINT_KINDS
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class PointError(ValueError):
    """A service point that cannot be saved; the message says why."""


def public_url(point: ServicePoint) -> str:
    """The address the poster's QR code holds: the configured BASE_URL, so that a poster
    printed from any server (or a proxy's inside address) works for the public."""
    return current_app.config["BASE_URL"].rstrip("/") + f"/s/{point.link_key}"


def listing() -> list[ServicePoint]:
    return list(db.session.scalars(select(ServicePoint).order_by(ServicePoint.code)))


def _check(code: str, name_zh: str, name_en: str, kind: str, point_id: int | None) -> None:
    if not CODE.match(code or ""):
        raise PointError(_l("A code is 1 to 40 small letters, digits, - or _."))
    if not (name_zh or "").strip() or not (name_en or "").strip():
        raise PointError(_l("Give the service point's name in Chinese and in English."))
    if kind not in POINT_KINDS:
        raise PointError(_l("Choose the kind of service point."))
    same = db.session.scalar(select(ServicePoint).where(ServicePoint.code == code))
    if same is not None and same.id != point_id:
        raise PointError(_l("Another service point has the code %(code)s.", code=code))


def create(code: str, name_zh: str, name_en: str, kind: str = "counter") -> ServicePoint:
    code = (code or "").strip().lower()
    _check(code, name_zh, name_en, kind, None)
    point = ServicePoint(code=code, name_zh=name_zh.strip(), name_en=name_en.strip(), kind=kind)
    db.session.add(point)
    db.session.flush()
    audit.record("service_point_created", f"service_point:{point.id}", after=_shown(point))
    return point


def update(point: ServicePoint, name_zh: str, name_en: str, kind: str, active: bool) -> None:
    _check(point.code, name_zh, name_en, kind, point.id)
    before = _shown(point)
    point.name_zh, point.name_en, point.kind = name_zh.strip(), name_en.strip(), kind
    point.active = active
    if _shown(point) != before:
        audit.record(
            "service_point_changed", f"service_point:{point.id}", before=before, after=_shown(point)
        )


def _shown(point: ServicePoint) -> str:
    """The point as the audit trail records it: what a rating of it meant."""
    state = "" if point.active else " (not taking ratings)"
    return f"{point.code} · {point.kind} · {point.name_zh} / {point.name_en}{state}"


def renew_link(point: ServicePoint) -> None:
    """A new public link: the old one (a poster taken down, a link passed around) stops
    working at once; the posters must be printed again."""
    point.link_key = _link_key()
    audit.record("service_point_link_renewed", f"service_point:{point.id}")
