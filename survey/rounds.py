"""Survey rounds: creating, opening and closing them, their order, and how far their responses
have come.

This module owns the order of rounds: ``in_order`` (the rounds of a questionnaire as they ran),
``previous_round`` (the latest earlier round with responses, never a draft) and
``earlier_rounds`` for trends, and ``next_round`` for verifying corrective actions. It also owns
the default thresholds (``analysis.Thresholds``). A round that closes sends ``round_closed``;
the corrective-action rules listen to it (``survey.corrective.rules``), so this module need not
know them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from blinker import Namespace
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select
from sqlalchemy import delete as sa_delete
from sqlalchemy import update as sa_update

import analysis
from survey import audit, jobs, storage
from survey.extensions import db
from survey.messages import N_, TranslatedError
from survey.models import (
    AuditEvent,
    Invitation,
    MailMessage,
    QuestionnaireVersion,
    RespondentGroup,
    Response,
    ResultExport,
    Round,
    Unit,
    utcnow,
)
from survey.office_time import last_day, local_date

_DEFAULTS = analysis.Thresholds()
DEFAULT_THRESHOLDS = {"rate": _DEFAULTS.rate, "mean": _DEFAULTS.mean}
# A round's statuses and how pages name them.
STATUS_LABELS = {"draft": _l("Draft"), "open": _l("Open"), "closed": _l("Closed")}

# Sent with the round and ``now`` when a round closes, by hand or at its close date.
round_closed = Namespace().signal("round-closed")


class RoundError(TranslatedError):
    """A round operation that the round's state does not allow, with a message to show."""


@dataclass(frozen=True)
class Progress:
    invited: int
    started: int
    submitted: int

    @property
    def rate(self) -> float | None:
        return self.submitted / self.invited if self.invited else None


# How a round's settings are named where people read them (its history, the audit trail).
SETTING_LABELS = {
    "name": _l("Name"),
    "version_id": _l("Questionnaire version"),
    "opens_at": _l("Opens on"),
    "closes_at": _l("Last day to answer"),
    "anonymous": _l("Anonymous"),
    "anonymity_threshold": _l("Smallest group reported on its own"),
    "thresholds": _l("Low-score thresholds"),
    "weights": _l("Weights per group"),
    "audience_groups": _l("Respondent groups"),
    "audience_units": _l("Only these units"),
}


def setting_text(key: str, value: Any) -> str:
    """A round setting's value as a person reads it (as the audit log stores it: dates as ISO
    strings, thresholds as fractions): the round's history and the audit trail both use it."""
    if value is None or value == [] or value == {}:
        return "–"
    if key in ("opens_at", "closes_at"):
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        day = last_day(moment) if key == "closes_at" else local_date(moment)
        return format_date(day, "long")
    if key == "anonymous" or isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if key == "thresholds":
        parts = []
        if "rate" in value:
            parts.append(str(_l("satisfied %(rate)s%%", rate=f"{value['rate'] * 100:g}")))
        if "mean" in value:
            parts.append(str(_l("mean %(mean)s", mean=f"{value['mean']:g}")))
        return ", ".join(parts)
    if key == "weights":
        return ", ".join(f"{code} {weight * 100:.0f}%" for code, weight in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def create(name: str, version: QuestionnaireVersion, **settings) -> Round:
    """A draft round of a published version. The version is frozen from now on: editing it
    makes a new draft version, so this round's results keep their meaning."""
    _check_version(version, settings.get("audience_groups"))
    round_ = Round(
        name=name.strip(),
        version=version,
        status="draft",
        thresholds=settings.pop("thresholds", None) or dict(DEFAULT_THRESHOLDS),
        **settings,
    )
    version.frozen_at = version.frozen_at or utcnow()
    db.session.add(round_)
    db.session.flush()
    audit.record("round_created", target=f"round:{round_.id}", version=version.id)
    return round_


# The settings a round's results depend on, in the order its history lists them.
RESULT_SETTINGS = (
    "name",
    "version_id",
    "opens_at",
    "closes_at",
    "anonymous",
    "anonymity_threshold",
    "thresholds",
    "weights",
    "audience_groups",
    "audience_units",
)


ROUND_EVENTS = (
    "round_created",
    "round_changed",
    "round_opened",
    "round_closed",
    "round_archived",
    "round_unarchived",
)
ARCHIVED = N_("The round is archived and cannot change; unarchive it first.")


def has_responses(round_: Round) -> bool:
    first = select(Response.id).where(Response.round_id == round_.id).limit(1)
    return db.session.scalar(first) is not None


def update(round_: Round, name: str, version: QuestionnaireVersion, **settings) -> dict:
    """Change a round's settings; returns {setting: (old, new)} for those that changed, also
    recorded in the audit log (the round's history).

    Once the round has been opened (respondents may have read its survey page and saved
    drafts) or anyone has answered, what the respondents were told stands: an anonymous round
    stays anonymous, the smallest group reported on its own cannot shrink, and the
    questionnaire version cannot change (the answers and drafts belong to its questions). A
    named round with responses cannot become anonymous (its responses keep their units)."""
    if round_.archived_at:
        raise RoundError(ARCHIVED)
    new = {"name": name.strip(), "version_id": version.id, **settings}
    if "thresholds" in new:
        # The form sets rate and mean; anything else set by hand (the test's alpha) stays.
        new["thresholds"] = _thresholds(round_) | (new["thresholds"] or {})
    _check_version(version, new.get("audience_groups"))
    responded = has_responses(round_)
    if responded or round_.status != "draft":
        _keep_promises(round_, new, responded)
    # An empty threshold setting means the defaults: the history names them.
    old = {key: getattr(round_, key) for key in new} | {"thresholds": _thresholds(round_)}
    changes = {
        key: (old[key], value)
        for key, value in new.items()
        if key in RESULT_SETTINGS and old[key] != value
    }
    for key, (_old, value) in changes.items():
        setattr(round_, key, value)
    if "version_id" in changes:
        round_.version = version
        version.frozen_at = version.frozen_at or utcnow()
    if "anonymous" in changes and round_.anonymous and round_.status == "closed":
        forget_invitees(round_)
    if changes:
        audit.record(
            "round_changed",
            target=f"round:{round_.id}",
            changes={key: [_plain(old), _plain(value)] for key, (old, value) in changes.items()},
        )
    return changes


def _thresholds(round_: Round) -> dict:
    return dict(DEFAULT_THRESHOLDS) | (round_.thresholds or {})


def _check_version(version: QuestionnaireVersion, groups) -> None:
    if version.status != "published":
        raise RoundError(N_("Only a published questionnaire version can be used for a round."))
    foreign = set(groups or ()) - set(version.group_codes)
    if foreign:
        raise RoundError(
            N_("The questionnaire has no questions for: %(groups)s."),
            groups=", ".join(sorted(foreign)),
        )


def _keep_promises(round_: Round, new: dict, responded: bool) -> None:
    if round_.anonymous and not new.get("anonymous", True):
        raise RoundError(
            N_("Respondents were told this round is anonymous; it cannot become a named round.")
        )
    if responded and not round_.anonymous and new.get("anonymous", False):
        # Its responses keep their unit and invitation: anonymous, it would promise what it
        # does not hold.
        raise RoundError(
            N_(
                "The round has responses linked to their units; it cannot become anonymous. "
                "Make a new anonymous round instead."
            )
        )
    if new.get("anonymity_threshold", round_.anonymity_threshold) < round_.anonymity_threshold:
        raise RoundError(
            N_(
                "Respondents were told no group smaller than %(n)s is reported on its own; "
                "the threshold cannot be lowered below %(n)s."
            ),
            n=round_.anonymity_threshold,
        )
    if new["version_id"] != round_.version_id:
        raise RoundError(
            N_(
                "The round has been opened on its questionnaire version (respondents may have "
                "answered or saved drafts); the version cannot change."
            )
        )


def _plain(value):
    """A setting as JSON can keep it in the audit log."""
    return value.isoformat() if isinstance(value, datetime) else value


def deletion_refused(round_: Round) -> str | None:
    """Why the round cannot be deleted, or None when it can."""
    if round_.status != "draft":
        return N_("Only a draft round can be deleted; a round that ran keeps its record.")
    if has_responses(round_):
        return N_("The round has responses; it cannot be deleted.")
    return None


def delete(round_: Round) -> None:
    """Remove a draft round nobody has answered, with its unused invitations."""
    refusal = deletion_refused(round_)
    if refusal:
        raise RoundError(refusal)
    audit.record("round_deleted", target=f"round:{round_.id}", name=round_.name)
    db.session.execute(sa_delete(MailMessage).where(MailMessage.round_id == round_.id))
    db.session.execute(sa_delete(Invitation).where(Invitation.round_id == round_.id))
    # Its exports' records go with the round (ON DELETE CASCADE); their files would not.
    exported = select(ResultExport.storage_key).where(
        ResultExport.round_id == round_.id, ResultExport.storage_key.is_not(None)
    )
    for key in db.session.scalars(exported).all():
        storage.delete(key)
    db.session.execute(sa_delete(ResultExport).where(ResultExport.round_id == round_.id))
    # In SQL: the round's invitations are a write-only collection the ORM will not load.
    db.session.execute(sa_delete(Round).where(Round.id == round_.id))
    db.session.expunge(round_)


def history(round_: Round) -> list[AuditEvent]:
    """What happened to the round's settings and status, oldest first, from the audit log.

    SQLite gives a new round the id of a deleted draft round that had the highest id, so only
    the events after the last deletion of a round with this id are this round's."""
    target = f"round:{round_.id}"
    deleted = db.session.scalar(
        select(func.max(AuditEvent.id)).where(
            AuditEvent.target == target, AuditEvent.action == "round_deleted"
        )
    )
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.target == target,
                AuditEvent.action.in_(ROUND_EVENTS),
                AuditEvent.id > (deleted or 0),
            )
            .order_by(AuditEvent.id)
        )
    )


def archive(round_: Round, now: datetime) -> None:
    """Put a closed round away: its results and actions stay, it leaves the default lists."""
    if round_.archived_at:
        raise RoundError(N_("The round is already archived."))
    if round_.status != "closed":
        raise RoundError(N_("Only a closed round can be archived."))
    round_.archived_at = now
    audit.record("round_archived", target=f"round:{round_.id}")


def unarchive(round_: Round, now: datetime) -> None:
    if not round_.archived_at:
        raise RoundError(N_("The round is not archived."))
    round_.archived_at = None
    audit.record("round_unarchived", target=f"round:{round_.id}")


def open_round(round_: Round, now: datetime) -> None:
    if round_.archived_at:
        raise RoundError(ARCHIVED)
    if round_.status == "open":
        raise RoundError(N_("The round is already open."))
    if round_.closes_at and round_.closes_at <= now:
        raise RoundError(N_("The close date has passed; set a later close date first."))
    round_.status, round_.opened_at, round_.closed_at = "open", now, None
    audit.record("round_opened", target=f"round:{round_.id}")


def close_round(round_: Round, now: datetime) -> None:
    if round_.status != "open":
        raise RoundError(N_("Only an open round can be closed."))
    round_.status, round_.closed_at = "closed", now
    _closed(round_, now)


def _closed(round_: Round, now: datetime) -> None:
    """Released or held (``release``), audited, then announced: the corrective-action rules
    run on the closed round. An anonymous round forgets who its invitees were
    (``forget_invitees``)."""
    short = release(round_)
    detail: dict[str, Any] = {"automatic": round_.closed_at != now}
    if short:
        detail["held"] = short
    audit.record("round_closed", target=f"round:{round_.id}", **detail)
    if round_.anonymous:
        forget_invitees(round_)
    round_closed.send(round_, now=now)


def responses_by_group(round_: Round) -> dict[str, int]:
    """The round's responses per respondent group code."""
    rows = db.session.execute(
        select(RespondentGroup.code, func.count(Response.id))
        .join(Response, Response.group_id == RespondentGroup.id)
        .where(Response.round_id == round_.id)
        .group_by(RespondentGroup.code)
    )
    return {code: int(n) for code, n in rows}


def release(round_: Round) -> dict[str, int]:
    """At a close: release the round's figures, or hold them back. Returns the groups held
    for (code: responses since the last release), empty when released.

    A round's first close releases them. A round reopened after that and closed again would
    show, by the difference between its figures at the two closes, the answers of whoever
    answered in between: so a later close releases them only if every group got none or at
    least the anonymity threshold of new responses, the protection a group's own row has. A
    held round's figures are sealed for those an open round's are (``survey.results.
    sealing``) until a close releases them again (reopen it to collect more answers)."""
    counts = responses_by_group(round_)
    before = round_.released_counts
    if before is not None:
        k = round_.anonymity_threshold
        added = {code: n - before.get(code, 0) for code, n in counts.items()}
        short = {code: n for code, n in sorted(added.items()) if 0 < n < k}
        if short:
            round_.results_held = True
            return short
    round_.released_counts, round_.results_held = counts, False
    return {}


def forget_invitees(round_: Round) -> None:
    """Erase what links an anonymous round's invitations to people, times and answers: the
    names and e-mail addresses (needed only to invite and remind while the round is open), any
    time of sending, reminding, opening or answering, and the answers saved but never sent.
    Each invitation keeps its unit, group and status, from which the response rate is
    counted, and its link."""
    db.session.execute(
        sa_update(Invitation)
        .where(Invitation.round_id == round_.id)
        .values(
            person_name=None,
            email=None,
            emailed_at=None,
            reminded_at=None,
            opened_at=None,
            submitted_at=None,
            draft=None,
        )
        .execution_options(synchronize_session="fetch")
    )
    # The e-mail records too: an invitation's message names its address and, with its times
    # and the invitation's status, says who answered; a failed reminder says who had not yet.
    # A message not sent by now is not sent at all.
    mail_of_round = sa_update(MailMessage).where(MailMessage.round_id == round_.id)
    db.session.execute(
        mail_of_round.where(MailMessage.status.in_(("queued", "failed"))).values(
            status="failed", last_error="not sent: the anonymous round closed"
        )
    )
    db.session.execute(
        mail_of_round.values(recipient="", body="", invitation_id=None).execution_options(
            synchronize_session="fetch"
        )
    )
    db.session.execute(mail_of_round.where(MailMessage.status == "sent").values(last_error=None))


def close_due_rounds(now: datetime) -> list[Round]:
    """Close every open round whose close date has passed (also done before listing rounds,
    so a round never shows as open after its date)."""
    due = db.session.scalars(
        select(Round).where(
            Round.status == "open", Round.closes_at.is_not(None), Round.closes_at <= now
        )
    ).all()
    for round_ in due:
        round_.status, round_.closed_at = "closed", round_.closes_at
        _closed(round_, now)
    return list(due)


@jobs.periodic_task(jobs.crontab(minute="*/15"))
def close_due_rounds_job() -> None:
    """The worker's: every quarter of an hour, close the rounds past their last day (which
    runs the corrective-action rules for each, through round_closed)."""
    close_due_rounds(utcnow())
    db.session.commit()


def audience_units(round_: Round) -> list[Unit]:
    """The active respondent units the round invites: the chosen units, else every unit of the
    chosen groups, else every unit of the version's groups."""
    query = select(Unit).join(RespondentGroup).where(Unit.kind == "respondent", Unit.active)
    if round_.audience_units:
        query = query.where(Unit.code.in_(round_.audience_units))
    else:
        groups = round_.audience_groups or round_.version.group_codes
        query = query.where(RespondentGroup.code.in_(groups))
    return list(db.session.scalars(query.order_by(RespondentGroup.position, Unit.id)))


def _progress_query(*keys):
    started = case((Invitation.status.in_(("started", "submitted")), 1), else_=0)
    submitted = case((Invitation.status == "submitted", 1), else_=0)
    return (
        select(*keys, func.count(), func.sum(started), func.sum(submitted))
        .where(Invitation.status != "revoked")
        .group_by(*keys)
    )


def _by_status(key=None, where=None) -> dict[Any, Progress]:
    """Progress per ``key`` (None: one for all) from the invitations counted per status: the
    counts come from the index on (round_id, group_id, status) alone, where the sums of
    ``_progress_query`` would visit every invitation's row."""
    keys = (key,) if key is not None else ()
    query = (
        select(*keys, Invitation.status, func.count())
        .where(Invitation.status != "revoked")
        .group_by(*keys, Invitation.status)
    )
    if where is not None:
        query = query.where(where)
    counted: dict[Any, list[int]] = {}
    for *found, status, n in db.session.execute(query):
        tally = counted.setdefault(found[0] if found else None, [0, 0, 0])
        tally[0] += n
        if status in ("started", "submitted"):
            tally[1] += n
        if status == "submitted":
            tally[2] += n
    return {k: Progress(*map(int, v)) for k, v in counted.items()}


def _progress(row) -> Progress:
    *_, invited, started, submitted = row
    return Progress(int(invited), int(started or 0), int(submitted or 0))


def progress_by_round() -> dict[int, Progress]:
    """Invited, started (opened or saved) and submitted invitations per round; revoked ones
    do not count as invited."""
    return _by_status(Invitation.round_id)


def progress_of(round_: Round) -> Progress:
    return _by_status(where=Invitation.round_id == round_.id).get(None, Progress(0, 0, 0))


def progress_by_group(round_: Round) -> list[tuple[RespondentGroup, Progress]]:
    rows = _by_status(Invitation.group_id, where=Invitation.round_id == round_.id)
    groups = db.session.scalars(
        select(RespondentGroup)
        .where(RespondentGroup.id.in_(rows))
        .order_by(RespondentGroup.position)
    ).all()
    return [(g, rows[g.id]) for g in groups]


def progress_by_unit(round_: Round) -> list[tuple[Unit, Progress]]:
    query = _progress_query(Invitation.unit_id).where(Invitation.round_id == round_.id)
    rows = {row[0]: _progress(row) for row in db.session.execute(query)}
    units = db.session.scalars(
        select(Unit)
        .join(RespondentGroup)
        .where(Unit.id.in_(rows))
        .order_by(RespondentGroup.position, Unit.id)
    ).all()
    return [(u, rows[u.id]) for u in units]


def newest_first(archived: bool = False) -> Select:
    """The rounds, newest first: those in use, or with ``archived`` the archived ones."""
    kept = Round.archived_at.is_not(None) if archived else Round.archived_at.is_(None)
    return select(Round).where(kept).order_by(Round.created_at.desc(), Round.id.desc())


# --- the order of rounds -------------------------------------------------------------------


def _when(round_: Round) -> tuple:
    # A round runs from its opening date; one never opened counts from its creation.
    return (round_.opens_at or round_.created_at, round_.id)


def in_order(round_: Round) -> list[Round]:
    """The rounds (not drafts) of the round's questionnaire, in the order they ran: by opening
    date (creation date where none is set), then id."""
    query = (
        select(Round)
        .join(QuestionnaireVersion, Round.version_id == QuestionnaireVersion.id)
        .where(
            QuestionnaireVersion.questionnaire_id == round_.version.questionnaire_id,
            Round.status != "draft",
        )
    )
    return sorted(db.session.scalars(query), key=_when)


def earlier_rounds(round_: Round, limit: int | None = None) -> list[Round]:
    """Up to ``limit`` closed rounds of the same questionnaire that ran before this one and
    have responses, newest first; never a draft, so a round is never compared with an empty
    one, and never one still open or held (``release``): its figures are sealed until it
    closes (``survey.results.sealing``), and a later round's comparison and trend would show
    them, moving."""
    earlier = [r for r in in_order(round_) if _when(r) < _when(round_) and r.results_final]
    # Whether each has a response: one probe of the (round_id, id) index per round. (A GROUP
    # BY of the responses read a round's whole index: 20 ms per 100,000 responses, on every
    # dashboard.)
    has_responses = select(Response.id).where(Response.round_id == Round.id).limit(1).exists()
    with_responses = set(
        db.session.scalars(
            select(Round.id).where(Round.id.in_([r.id for r in earlier]), has_responses)
        )
    )
    found = [r for r in reversed(earlier) if r.id in with_responses]
    return found if limit is None else found[:limit]


def previous_round(round_: Round) -> Round | None:
    """The latest earlier round of the same questionnaire with responses (see
    ``earlier_rounds``): what trends, the drop rule and comparisons read as "last time"."""
    earlier = earlier_rounds(round_, limit=1)
    return earlier[0] if earlier else None


def next_round(round_: Round) -> Round | None:
    """The first round of the same questionnaire that ran after this one (not a draft)."""
    later = [r for r in in_order(round_) if _when(r) > _when(round_)]
    return later[0] if later else None


def thresholds_of(round_: Round) -> analysis.Thresholds:
    """The round's thresholds (``{"rate": 0.8, "mean": 3.5, "alpha": 0.05}``), defaults for
    what it does not set."""
    given = round_.thresholds or {}
    return analysis.Thresholds(
        rate=float(given.get("rate", _DEFAULTS.rate)),
        mean=float(given.get("mean", _DEFAULTS.mean)),
        alpha=float(given.get("alpha", _DEFAULTS.alpha)),
    )
