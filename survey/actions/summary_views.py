"""The "you said, we did" summaries: what the office tells each respondent group it did."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey import corrective
from survey.actions import bp
from survey.actions.forms import (
    SummaryForm,
)
from survey.actions.views import LEAD, _rounds
from survey.corrective import summaries as group_summaries  # the view below is called summaries
from survey.extensions import db
from survey.i18n import current_language
from survey.models import (
    Round,
    utcnow,
)
from survey.permissions import role_required


@bp.get("/summaries")
@role_required(LEAD)
def summaries():
    return render_template("actions/summaries.html", rounds=_rounds(with_actions=True))


@bp.get("/summaries/<int:round_id>")
@role_required(LEAD)
def summary_round(round_id: int):
    return _render_summaries(db.get_or_404(Round, round_id))


def _render_summaries(round_: Round, status: int = 200, posted: tuple | None = None):
    lang, rows = current_language(), []
    for group, summary, closed in group_summaries.summary_groups(round_):
        if posted and posted[0] == group.code:
            form = posted[1]
        elif summary:
            form = SummaryForm(formdata=None, obj=summary)
        else:
            said, did = group_summaries.summary_draft(round_, group.code, lang)
            form = SummaryForm(formdata=None, you_said=said, we_did=did)
        rows.append((group, summary, closed, form))
    return render_template("actions/summary_round.html", round=round_, rows=rows), status


@bp.post("/summaries/<int:round_id>/<group>")
@role_required(LEAD)
def summary_publish(round_id: int, group: str):
    round_ = db.get_or_404(Round, round_id)
    form = SummaryForm()
    if not form.validate_on_submit():
        return _render_summaries(round_, 400, (group, form))
    try:
        group_summaries.publish_summary(
            round_, group, form.you_said.data, form.we_did.data, current_user, utcnow()
        )
    except corrective.ActionError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Published: respondents of this group see it on their next invitation."), "success")
    return redirect(url_for("actions.summary_round", round_id=round_id, _anchor=group))
