from flask import redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from survey import corrective, rounds
from survey.corrective import texts
from survey.extensions import db
from survey.home import bp
from survey.i18n import current_language
from survey.models import CorrectiveAction, Invitation, Round, utcnow


@bp.get("/")
def index():
    """Each role's start page; respondents see their unit's open invitations. The lead and
    owners of actions see the corrective-action block on top."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.role == "quality_lead":
        return redirect(url_for("review.index"))
    panel = _actions_panel()
    page = "respondent.html" if current_user.role == "respondent" else "staff.html"
    template = f"actions/home_{page}" if panel else f"home/{page}"
    scorecards = _scorecard_rounds()
    if current_user.role == "respondent":
        return render_template(
            template, invitations=_my_invitations(), actions_panel=panel, scorecards=scorecards
        )
    return render_template(
        template,
        rounds=db.session.scalars(rounds.newest_first()).all(),
        progress=rounds.progress_by_round(),
        actions_panel=panel,
        scorecards=scorecards,
    )


def _scorecard_rounds() -> list[Round]:
    """For the staff of a served unit (a division): the rounds whose scorecard of their unit
    they may open; none for anyone else."""
    unit = current_user.unit
    if unit is None or unit.kind != "served":
        return []
    return [r for r in db.session.scalars(rounds.newest_first()) if r.status != "draft"]


def _actions_panel() -> dict | None:
    """The lead's register figures, or the user's own open actions; None for everyone else."""
    today = corrective.local_today(utcnow())
    if corrective.is_lead(current_user):
        everything = db.session.scalars(select(CorrectiveAction)).all()
        return {"lead": True, "stats": corrective.register_stats(everything, today)}
    mine = corrective.my_actions(current_user)
    if not mine:
        return None
    names = texts.action_names(mine, current_language())
    return {"lead": False, "mine": mine, "names": names, "today": today}


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
