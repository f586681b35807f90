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
