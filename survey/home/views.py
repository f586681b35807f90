from flask import redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from survey import rounds
from survey.actions.views import home_template
from survey.extensions import db
from survey.home import bp
from survey.models import Invitation, Round


@bp.get("/")
def index():
    """Each role's start page; respondents see their unit's open invitations."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.role == "respondent":
        return render_template(home_template("home/respondent.html"), invitations=_my_invitations())
    if current_user.role == "quality_lead":
        return redirect(url_for("review.index"))
    return render_template(
        home_template("home/staff.html"),
        rounds=db.session.scalars(rounds.newest_first()).all(),
        progress=rounds.progress_by_round(),
    )


def _my_invitations() -> list[Invitation]:
    if current_user.unit_id is None:
        return []
    query = (
        select(Invitation)
        .join(Round)
        .where(
            Invitation.unit_id == current_user.unit_id,
            Round.status == "open",
            Invitation.status != "revoked",
        )
        .order_by(Round.created_at.desc())
    )
    return list(db.session.scalars(query))
