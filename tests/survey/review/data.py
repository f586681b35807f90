"""The known answers of the results tests (the fixtures that store them are in factories.py)."""

from __future__ import annotations

from survey.models import Round

INJECTION = '=HYPERLINK("http://evil.test","click")'
# Six departments and four mayors; None means the item is not answered.
DEPARTMENTS = {
    "doc_timeliness": [5, 5, 4, 4, 3, 2],
    "mtg_minutes": [5, 4, 2, 1, 3, 4],
    "overall": [5, 4, 4, 3, 2, 4],
}
MAYORS = {"doc_timeliness": [5, 4, 4, 1], "overall": [4, 4, 5, 2]}


def fill(round_: Round, answer) -> Round:
    """The known answers of ``DEPARTMENTS`` and ``MAYORS`` in ``round_``, with a formula-like
    comment on the departments' rating of 1 and a free-text answer."""
    for i in range(6):
        values = {code: column[i] for code, column in DEPARTMENTS.items()}
        comments = {"mtg_minutes": INJECTION} if values["mtg_minutes"] == 1 else {}
        if i == 0:
            values["comment"] = "会议纪要请早些下发"
        answer(round_, "departments", values, comments, source="paper" if i == 5 else "web")
    for i in range(4):
        answer(
            round_,
            "mayors",
            {code: column[i] for code, column in MAYORS.items()},
            {"doc_timeliness": "太慢"} if MAYORS["doc_timeliness"][i] == 1 else {},
        )
    return round_


def closed(round_: Round) -> Round:
    """`round_` marked closed, by its status only (its invitees' names stay, for the tests
    that look for them in downloads): an open round's downloads are sealed for most readers
    (survey.results.sealing), and these tests are about what a download holds."""
    from survey.extensions import db

    round_.status = "closed"
    db.session.commit()
    return round_


# --- a round answered by named people of distinct units (the anonymity tests) --------------

# Three mayors' offices, three departments and the CPPCC office, the only unit of its group.
AUDIENCE = {"mayors": 3, "departments": 3, "cppcc": 1}


def person(k: int) -> tuple[str, str]:
    """The name and e-mail address of the audience round's k-th invitee."""
    return f"Invitee Zhang {k}", f"invitee.zhang.{k}@office.test"


def audience_round(make_round, anonymous: bool = True, audience=None, **kwargs) -> Round:
    """A round in which named people of distinct units (``AUDIENCE`` units per group) each
    answered from their personal invitation: ratings of 4, and the CPPCC and congress offices a
    2 on their liaison item."""
    from sqlalchemy import select

    from survey import invitations, responses
    from survey.extensions import db
    from survey.models import RespondentGroup, Unit, utcnow

    round_ = make_round(anonymous=anonymous, **kwargs)
    k = 0
    for group, count in (audience or AUDIENCE).items():
        units = db.session.scalars(
            select(Unit)
            .join(RespondentGroup)
            .where(RespondentGroup.code == group)
            .order_by(Unit.id)
            .limit(count)
        ).all()
        for unit in units:
            name, email = person(k)
            invitation = invitations.issue(round_, unit, name, email)
            db.session.commit()
            values = (
                {"liaison_contact": 2, "overall": 3}
                if group in ("cppcc", "congress")
                else {"doc_timeliness": 4, "overall": 4}
            )
            responses.submit(invitation, values, {}, f"aud-{round_.id}-{k}", utcnow())
            k += 1
    return round_
