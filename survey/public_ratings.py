"""A citizen rates a service point through its public link, with no account.

The defences against ballot stuffing, each in one place here:

- **one rating per device per point per day**: the device carries a random cookie; what is
  stored is a keyed hash of (cookie, point, the office's date), unique per point;
- **a signed nonce**: the form carries a token the server signed for this point; it expires,
  and a form sent twice (a double tap, a resend) stores one rating, its nonce being unique;
- **rate limits per network** (a /24 or a /56, not one address, since a phone changes
  address): ``survey.public`` applies ``PUBLIC_RATING_RATE_LIMIT`` with ``network_of`` as
  the key;
- **anomaly flags**: ``BURST_SIZE`` identical answers at one point within ``BURST_WINDOW``
  are flagged ``burst``; the lead sees them and may set them aside (they then count nowhere).

What a rating keeps of its sender is a keyed hash of the network, never the address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from survey import feedback_cases, office_time, tenancy
from survey.extensions import db
from survey.models import POOR_AT_MOST, REASONS, FeedbackCase, PublicRating, ServicePoint

SCORE_LABELS = {
    5: _l("Very satisfied"),
    4: _l("Satisfied"),
    3: _l("Neither satisfied nor dissatisfied"),
    2: _l("Dissatisfied"),
    1: _l("Very dissatisfied"),
}
REASON_LABELS = {
    "waiting": _l("I waited too long"),
    "attitude": _l("Staff attitude"),
    "information": _l("Information unclear or wrong"),
    "result": _l("My matter was not resolved"),
    "other": _l("Something else"),
}
assert tuple(REASON_LABELS) == REASONS

NONCE_SALT = "public-rating"
# A form older than this is refused (the page is shown again, what was chosen kept).
FORM_MAX_AGE = timedelta(hours=2)
BURST_WINDOW = timedelta(minutes=10)
BURST_SIZE = 5
COMMENT_MAX = 1000
DEVICE_COOKIE = "survey_device"


# link key -> (point id, office id), as found: every page and rating of a point starts here,
# and the office's own query below checks the key again, so a renewed or retired link still
# stops working at once.
_LINKS: dict[str, tuple[int, int]] = {}
LINKS_KEPT = 4096


def enter_by_link(link_key: str) -> ServicePoint | None:
    """The active service point of a public link, whatever the office (the link is the key),
    and work for its office from now on; None (and no office) for an unknown or retired link.
    Only the ids are read across offices: the point itself is loaded in its own office."""
    found = _LINKS.get(link_key)
    if found is None:
        with tenancy.unscoped():
            row = db.session.execute(
                select(ServicePoint.id, ServicePoint.office_id).where(
                    ServicePoint.link_key == link_key, ServicePoint.active
                )
            ).first()
        if row is None:
            return None
        found = (row.id, row.office_id)
        if len(_LINKS) >= LINKS_KEPT:
            _LINKS.clear()
        _LINKS[link_key] = found
    point_id, office_id = found
    tenancy.enter(office_id)
    point = db.session.get(ServicePoint, point_id)
    if point is None or point.link_key != link_key or not point.active:
        _LINKS.pop(link_key, None)
        tenancy.enter(None)
        return None
    return point


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=NONCE_SALT)


def _device_mark(device: str) -> str:
    return _keyed(f"form-device:{device}")[:16]


def form_token(point: ServicePoint, device: str) -> str:
    """A new signed nonce for one showing of the point's form to this device: it is accepted
    from this device only, so that another site cannot have its visitors' browsers send
    ratings (their cross-site POST carries no cookie of this site, SameSite=Lax)."""
    return _serializer().dumps(
        {"p": point.id, "n": secrets.token_urlsafe(18), "d": _device_mark(device)}
    )


def nonce_of(token: str, point: ServicePoint, device: str) -> str | None:
    """The nonce of a token this server signed for this point and device, None if it is
    forged, expired, another point's or another device's."""
    try:
        data = _serializer().loads(token, max_age=int(FORM_MAX_AGE.total_seconds()))
    except (BadSignature, TypeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("p") != point.id:
        return None
    if not hmac.compare_digest(str(data.get("d", "")), _device_mark(device)):
        return None
    nonce = data.get("n")
    return nonce if isinstance(nonce, str) and 16 <= len(nonce) <= 64 else None


def new_device() -> str:
    return secrets.token_urlsafe(16)


def _keyed(text: str) -> str:
    key = str(current_app.secret_key).encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:40]


def device_day(device: str, point_id: int, day: date) -> str:
    return _keyed(f"device:{device}|{point_id}|{day.isoformat()}")


def network(address: str | None) -> str:
    """The sender's network, as the rate limit counts it: an IPv4 /24, an IPv6 /56 (what one
    household or one phone's provider hands out), the address itself if it is no address."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "-"
    if ip.version == 6 and ip.ipv4_mapped:  # a dual-stack server sees IPv4 clients so
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 56
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def network_of(address: str | None) -> str:
    """What a rating keeps of its network: a keyed hash, so that a burst from one network can
    be seen without the addresses being stored."""
    return _keyed(f"network:{network(address)}")


@dataclass(frozen=True)
class Answer:
    """What the citizen chose, as the form gives it."""

    score: int
    reasons: tuple[str, ...] = ()
    comment: str | None = None
    contact_name: str | None = None
    contact: str | None = None
    language: str = "zh"


@dataclass(frozen=True)
class Rated:
    """``stored``: a new rating; ``again``: this form was sent before (its rating returned);
    ``today``: this device rated this point today already (nothing stored)."""

    outcome: str
    rating: PublicRating
    case: FeedbackCase | None = None
    # What the thanks page tells the citizen, as plain data (see _rated).
    told: dict = field(default_factory=dict)


def _rated(outcome: str, rating: PublicRating, case: FeedbackCase | None = None) -> Rated:
    """The outcome with what the citizen is told, taken while the rows are loaded: read after
    the commit, which expires them, each would cost a query."""
    told = {
        "outcome": outcome,
        "poor": rating.score <= POOR_AT_MOST,
        "contact": bool(rating.contact),
        "due": case.due_date.isoformat() if case else None,
    }
    return Rated(outcome, rating, case, told)


def _existing(point: ServicePoint, nonce: str, day_key: str) -> Rated | None:
    """The rating this form (its nonce) or this device (today) gave already, None if neither.
    One statement, hence one snapshot: with two, a rating committed between them (the other
    request of a double tap, on PostgreSQL) was missed by the nonce and found by the device,
    and the form sent twice was told "today" instead of "again"."""
    found = db.session.scalars(
        select(PublicRating).where(
            or_(
                PublicRating.nonce == nonce,
                and_(
                    PublicRating.service_point_id == point.id,
                    PublicRating.device_day == day_key,
                ),
            )
        )
    ).all()
    by_nonce = next((r for r in found if r.nonce == nonce), None)
    if by_nonce is not None:
        return _rated("again", by_nonce, _case_of(by_nonce))
    return _rated("today", found[0]) if found else None


def _case_of(rating: PublicRating) -> FeedbackCase | None:
    return db.session.scalar(select(FeedbackCase).where(FeedbackCase.rating_id == rating.id))


def submit(
    point: ServicePoint,
    answer: Answer,
    *,
    nonce: str,
    device: str,
    address: str | None,
    now: datetime,
    before_storing: Callable[[], None] | None = None,
) -> Rated:
    """Store a citizen's rating unless this form or this device (today) gave one already; a
    poor one opens a follow-up case. Two identical requests at once store one rating: the
    database's unique keys decide, and the loser finds the winner's row. Commits."""
    if answer.score not in SCORE_LABELS:
        raise ValueError(f"a score is 1 to 5, not {answer.score!r}")
    day_key = device_day(device, point.id, office_time.local_date(now))
    poor = answer.score <= POOR_AT_MOST
    found = _existing(point, nonce, day_key)
    if found is not None:
        return found
    if before_storing is not None:
        before_storing()  # the network's limit (survey.public): it may refuse the rating
    rating = PublicRating(
        office_id=point.office_id,
        service_point_id=point.id,
        score=answer.score,
        reasons=[r for r in REASONS if r in answer.reasons],
        comment=(answer.comment or "").strip()[:COMMENT_MAX] or None,
        # Contact details are for the reply to a poor rating: with any other, none is kept.
        contact_name=((answer.contact_name or "").strip()[:100] or None) if poor else None,
        contact=((answer.contact or "").strip()[:200] or None) if poor else None,
        language=answer.language,
        nonce=nonce,
        device_day=day_key,
        network=network_of(address),
        submitted_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(rating)
    except IntegrityError:
        found = _existing(point, nonce, day_key)
        if found is None:
            raise
        return found
    _flag_burst(rating, now)
    case = feedback_cases.open_for(rating, now) if rating.score <= POOR_AT_MOST else None
    rated = _rated("stored", rating, case)
    db.session.commit()
    return rated


def _flag_burst(rating: PublicRating, now: datetime) -> None:
    """Flag this rating and the others like it when ``BURST_SIZE`` identical answers came to
    one point within ``BURST_WINDOW``: the same score, reasons and comment (a script, or one
    person going from phone to phone). The flags are for the lead to look at; nothing is
    discarded automatically. The same words typed five times are suspect from anywhere; the
    same ticks are not (five people may all wait too long on the day the queue breaks down),
    so ratings without a comment are compared within one network only. Ratings set aside do
    not count; one the lead kept is not flagged again."""
    same = select(PublicRating).where(
        PublicRating.service_point_id == rating.service_point_id,
        PublicRating.submitted_at >= now - BURST_WINDOW,
        PublicRating.score == rating.score,
        PublicRating.id != rating.id,
        counted(),
    )
    if not rating.comment:
        same = same.where(PublicRating.network == rating.network)
    else:
        # In the query: otherwise every rating of that score at the point within the window
        # was loaded to be compared here, and a rating with a comment cost more the busier
        # the point (7 ms with 400 ratings in the window, 30 ms with 2,400).
        same = same.where(PublicRating.comment == rating.comment)
    alike = [
        r
        for r in db.session.scalars(same)
        if r.comment == rating.comment and sorted(r.reasons) == sorted(rating.reasons)
    ]
    if len(alike) + 1 >= BURST_SIZE:
        for r in (*alike, rating):
            if r.flag is None:
                r.flag = "burst"


def set_aside(rating: PublicRating, by, now: datetime) -> None:
    """The lead's decision that a flagged rating is not genuine: it counts nowhere after, and
    the case it opened is closed as set aside."""
    rating.flag = "set_aside"
    case = _case_of(rating)
    if case is not None and case.status != "closed":
        feedback_cases.close_set_aside(case, by, now)


def keep(rating: PublicRating) -> None:
    """The lead's decision that a flagged rating is genuine: the flag goes."""
    rating.flag = "kept"


def rated_today(point: ServicePoint, device: str, now: datetime) -> bool:
    """Whether this device rated this point today already (the form says so up front)."""
    day_key = device_day(device, point.id, office_time.local_date(now))
    found = select(PublicRating.id).where(
        PublicRating.service_point_id == point.id, PublicRating.device_day == day_key
    )
    return db.session.scalar(found.limit(1)) is not None


def counted():
    """The ratings that count: all but those set aside."""
    return (PublicRating.flag.is_(None)) | (PublicRating.flag != "set_aside")


@dataclass(frozen=True)
class PointFigures:
    point: ServicePoint
    ratings: int
    satisfied: int
    poor: int
    flagged: int

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None


def figures(since: datetime) -> list[PointFigures]:
    """Per service point of the office since ``since``: ratings counted, satisfied (4 or 5),
    poor, and flagged awaiting the lead's look."""
    points = db.session.scalars(select(ServicePoint).order_by(ServicePoint.code)).all()
    rows = db.session.execute(
        select(
            PublicRating.service_point_id,
            func.count().filter(counted()),
            func.count().filter(counted(), PublicRating.score >= 4),
            func.count().filter(counted(), PublicRating.score <= POOR_AT_MOST),
            func.count().filter(PublicRating.flag == "burst"),
        )
        .where(PublicRating.submitted_at >= since)
        .group_by(PublicRating.service_point_id)
    ).all()
    by_point = {row[0]: row[1:] for row in rows}
    return [PointFigures(p, *by_point.get(p.id, (0, 0, 0, 0))) for p in points]


def flagged(limit: int = 50) -> list[PublicRating]:
    """Ratings flagged as part of a burst, newest first, for the lead to look at."""
    return list(
        db.session.scalars(
            select(PublicRating)
            .where(PublicRating.flag == "burst")
            .order_by(PublicRating.submitted_at.desc(), PublicRating.id.desc())
            .limit(limit)
        )
    )
