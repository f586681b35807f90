"""The demo's public feedback: three service points of the office, a month of citizens'
ratings at each (most satisfied), and the cases their poor ratings opened in every state: one
closed on time, one contacted, open ones, one overdue and escalated, and at the hall the same
complaint three times (a pattern for a corrective action). Nothing is added when the office
has service points already."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from survey import feedback_cases, public_ratings, service_points
from survey.extensions import db
from survey.models import FeedbackCase, ServicePoint, User

POINTS = (
    ("hall-1", "行政服务中心一楼大厅", "Administrative Service Centre, ground floor hall", "hall"),
    ("counter-permits", "建设项目审批窗口", "Construction permits counter", "counter"),
    ("web-hotline", "12345 网上咨询", "12345 online enquiries", "web"),
)
# The share of satisfied (4-5) ratings at each point: the counter does worst.
SATISFIED = {"hall-1": 0.82, "counter-permits": 0.64, "web-hotline": 0.86}
COMMENTS = {
    "waiting": "排队等了一个多小时，取号机也坏了。",
    "attitude": "窗口工作人员态度生硬。",
    "information": "网上说的材料和窗口要求的不一样。",
    "result": "跑了三次还没办成。",
}
PHONES = ("138 0575 1234", "139 5751 2088", "citizen@example.cn", None, None)


def load(now: datetime, lead_email: str, seed: int = 2004) -> list[ServicePoint]:
    """Add the demo's service points and their month of ratings to the current office, unless
    it has service points already; returns the office's points. Commits."""
    if db.session.scalar(select(ServicePoint.id).limit(1)) is not None:
        return service_points.listing()
    rng = random.Random(seed)
    lead = db.session.scalar(User.by_email(lead_email))
    points = [service_points.create(code, zh, en, kind) for code, zh, en, kind in POINTS]
    db.session.commit()
    for point in points:
        for n in range(rng.randint(40, 60)):
            when = now - timedelta(days=rng.uniform(0.2, 30), minutes=n)
            score = _score(rng, SATISFIED[point.code])
            reasons = (rng.choice(list(COMMENTS)),) if score <= 2 else ()
            _rate(point, score, reasons, rng, when)
    # The pattern: the hall's ticket machine, three times within the month.
    hall = points[0]
    for days in (3, 9, 16):
        _rate(hall, 1, ("waiting",), rng, now - timedelta(days=days), contact="138 0575 6600")
    db.session.commit()
    if lead is not None:
        _work_some_cases(lead, now)
    feedback_cases.escalate(now)
    db.session.commit()
    return points


def _score(rng: random.Random, satisfied: float) -> int:
    if rng.random() < satisfied:
        return rng.choice((4, 5, 5))
    return rng.choice((1, 2, 2, 3, 3))


def _rate(point, score, reasons, rng, when, contact=None) -> None:
    n = rng.getrandbits(64)
    public_ratings.submit(
        point,
        public_ratings.Answer(
            score=score,
            reasons=reasons,
            comment=COMMENTS[reasons[0]] if reasons and rng.random() < 0.7 else None,
            contact=contact if contact else rng.choice(PHONES) if score <= 2 else None,
            contact_name="市民" if score <= 2 else None,
        ),
        nonce=f"demo-{point.id}-{n:020d}",
        device=f"demo-device-{n}",
        address=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.7",
        now=when,
    )


def _work_some_cases(lead: User, now: datetime) -> None:
    """The older cases were dealt with, as an office would: closed, or at least contacted;
    the newest are open, and one old one was forgotten (overdue, escalated)."""
    cases = db.session.scalars(select(FeedbackCase).order_by(FeedbackCase.opened_at)).all()
    forgotten = next((c for c in cases if c.rating.contact), None)
    for case in cases:
        age = now - case.opened_at
        if case is forgotten or age < timedelta(days=4):
            continue
        later = case.opened_at + timedelta(days=1, hours=3)
        if case.rating.contact:
            feedback_cases.record_contact(case, lead, "电话联系市民，了解具体情况。", later)
            if age > timedelta(days=6):
                feedback_cases.close(
                    case, lead, "已向市民说明原因并致歉，窗口已整改。", "explained", later
                )
        else:
            feedback_cases.close(
                case, lead, "未留联系方式；已核查当日窗口情况。", "no_contact", later
            )
    db.session.commit()
