"""Demo data: the Shaoxing office's units, one account per role, an open round with invitations
and, on request, simulated responses with a realistic spread (some items clearly below 80%)."""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from statistics import NormalDist

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from questionnaires import DEFINITIONS_DIR, load, load_dir
from questionnaires.model import Question, Questionnaire
from survey import (
    corrective,
    editing,
    invitations,
    offices,
    questionnaire_templates,
    responses,
    rounds,
    service_points,
    tenancy,
)
from survey.cli import demo_feedback
from survey.extensions import db
from survey.invitations import invitation_url
from survey.models import (
    CorrectiveAction,
    Invitation,
    Office,
    QuestionnaireTemplate,
    RespondentGroup,
    Response,
    Round,
    ServicePoint,
    Unit,
    User,
    utcnow,
)
from survey.questionnaire_store import save_version, to_model
from survey.units import import_units_csv

QUESTIONNAIRE_FILE = "office-services.yaml"
MAIL_DOMAIN = "shaoxing.example"
ROUND_NAME = "2004 autumn"
# With enough responses asked for, a closed earlier round: its low items become corrective
# actions that the autumn round verifies (one improved, two not), and one account per served
# unit to own them (role respondent: they see only their actions, nothing of the design pages).
PREVIOUS_ROUND_NAME = "2004 spring"
HISTORY_MINIMUM = 100
OWNERS = (
    ("secretariat", "secretariat@shaoxing.example", "demo-secretariat-2004", "秘书处 王处长"),
    ("documents", "documents@shaoxing.example", "demo-documents-2004", "文书处理科 李科长"),
    ("meetings", "meetings@shaoxing.example", "demo-meetings-2004", "会务科 张科长"),
    ("supervision", "supervision@shaoxing.example", "demo-supervision-2004", "督查室 陈主任"),
    ("reception", "reception@shaoxing.example", "demo-reception-2004", "接待与信息科 赵科长"),
)
# The spring round: document timeliness was weak and was put right by autumn; the minutes of
# meetings and the feedback on supervised matters were weak and stay so.
SPRING_ITEM_SATISFIED_SHARE = {"doc_timeliness": 0.62, "mtg_minutes": 0.65, "sup_feedback": 0.67}
# The spring item whose action the demo takes round the loop before autumn (the fix above).
SUMMER_FIX = "doc_timeliness"
ACCOUNTS = (
    ("admin", "admin@shaoxing.example", "demo-admin-2004", "系统管理员", None),
    ("designer", "designer@shaoxing.example", "demo-designer-2004", "办公室问卷设计", None),
    ("quality_lead", "quality@shaoxing.example", "demo-quality-2004", "质量管理负责人", None),
    (
        "respondent",
        "respondent@shaoxing.example",
        "demo-respondent-2004",
        "市财政局联络员",
        "dept_finance",
    ),
)
# Share of satisfied (4 or 5) answers by category in the simulation; the rest spread over 1-3.
SATISFIED_SHARE = {
    "services.documents": 0.92,
    "services.meetings": 0.84,
    "services.implementation": 0.71,
    "services.information": 0.86,
    "services.attitude": 0.93,
    "city.order": 0.83,
    "city.environment": 0.64,
    "city.appearance": 0.77,
    "overall": 0.87,
}
# Items that the office knows to be weak, below their category's level.
ITEM_SATISFIED_SHARE = {"mtg_minutes": 0.66, "sup_feedback": 0.68, "liaison_proposals": 0.74}
# Each answer follows the respondent's general mood (a latent score shared by the whole
# response) with a weight between these two, fixed per item; the overall item follows it most.
# So items correlate with the overall item, some more than others, as real answers do, and the
# driver view has something to find. Each item's share of satisfied answers stays as set above.
MOOD_WEIGHT_RANGE = (0.3, 0.8)
MOOD_WEIGHT_OVERALL = 0.9
# How the satisfied answers split over 5 and 4, and the others over 3, 2 and 1.
SATISFIED_SPLIT = (0.45, 0.55)
OTHER_SPLIT = (0.55, 0.3, 0.15)
_NORMAL = NormalDist()
# What a low rating's comment says, by the item's category: a comment about the minutes under
# document timeliness would puzzle whoever reads the action it explains.
LOW_COMMENTS = {
    "services.documents": (
        "公文办理时限过长，多次催办才有结果。",
        "部分公文格式不够规范，需要退回修改。",
    ),
    "services.meetings": ("会议纪要下发太慢，影响贯彻落实。", "会议通知太临时，来不及准备材料。"),
    "services.implementation": ("督办事项反馈不及时，希望定期通报进展。",),
    "services.information": ("信息报送渠道不够畅通，反馈较慢。",),
    "services.liaison": ("联络沟通不够及时，希望有固定的联系人。",),
    "services.attitude": ("个别工作人员答复不够耐心。",),
    "city.order": ("夜间施工噪声扰民，希望加强管理。",),
    "city.environment": ("城区河道和背街小巷的环境卫生仍需加强。",),
    "city.appearance": ("部分街道广告牌杂乱，影响市容。",),
}
OTHER_LOW_COMMENTS = ("希望进一步提高服务效率。",)


@dataclass
class DemoReport:
    """What the demo did, printed by the CLI as stable lines that scripts read."""

    logins: list[tuple[str, str, str]] = field(default_factory=list)
    round: Round | None = None
    invites: list[tuple[str, Invitation]] = field(default_factory=list)
    simulated: int = 0
    previous_round: Round | None = None
    owners: list[tuple[str, str, str]] = field(default_factory=list)
    open_actions: int = 0
    points: list[ServicePoint] = field(default_factory=list)


def run(
    responses_wanted: int = 0,
    seed: int = 2004,
    mail_domain: str = MAIL_DOMAIN,
    template: QuestionnaireTemplate | None = None,
) -> DemoReport:
    """Load everything the demo needs into the current office; running it again changes
    nothing it already made, and tops the demo round up to `responses_wanted` responses. The
    accounts' addresses are at `mail_domain` (one per office: an account is a person). With a
    shared `template`, the office's questionnaire is the one adopted from it."""
    report = DemoReport()

    def at(email: str) -> str:
        return email.replace(f"@{MAIL_DOMAIN}", f"@{mail_domain}")

    for definition in load_dir(DEFINITIONS_DIR):
        if template is None or definition.id != template.code:
            save_version(definition)
    if template is None:
        version = save_version(load(DEFINITIONS_DIR / QUESTIONNAIRE_FILE))
    else:
        version = _adopted(template)
    units_csv = resources.files("survey.demo_data").joinpath("units.csv").read_text("utf-8")
    import_units_csv(units_csv)
    report.logins = [_account(role, at(email), *rest) for role, email, *rest in ACCOUNTS]
    respondent_units = db.session.scalars(
        select(Unit).where(Unit.kind == "respondent").order_by(Unit.id)
    ).all()
    if responses_wanted >= HISTORY_MINIMUM:
        # Before the autumn round exists, so that it is created (and listed) first.
        report.previous_round = _previous_round(
            version, respondent_units, responses_wanted, random.Random(seed - 1)
        )
        report.owners = [_owner(unit, at(email), *rest) for unit, email, *rest in OWNERS]
        db.session.flush()
        _fixed_over_the_summer(report.previous_round, at)
    round_ = _round(version)
    invitations.issue_per_unit(round_, list(respondent_units))
    db.session.commit()
    report.round = round_
    report.simulated = _simulate(round_, respondent_units, responses_wanted, random.Random(seed))
    report.invites = _unused_invitation_per_group(round_)
    # The queue is never empty: low items of the open round become actions too (an item that
    # already has one from spring only gets a note, and none when nothing changed).
    corrective.run_rules(round_, utcnow())
    report.open_actions = db.session.scalar(
        select(func.count()).where(CorrectiveAction.status.in_(corrective.ACTIVE))
    )
    db.session.commit()
    report.points = demo_feedback.load(utcnow(), at("quality@shaoxing.example"), seed)
    return report


def _adopted(template: QuestionnaireTemplate):
    """The office's version of the shared questionnaire: adopted once, its title adapted to
    the office's name (the template's is the sharing office's), and published."""
    if template.code in questionnaire_templates.used_here():
        return editing.find_version(template.code)
    version, _ = questionnaire_templates.adopt(template)
    publisher = db.session.get(Office, template.publisher_id)
    here = db.session.get(Office, tenancy.current_office_id())
    definition = to_model(version)
    title = definition.title
    editing.update_settings(
        version,
        type(title)(
            title.zh.replace(publisher.name_zh, here.name_zh),
            title.en.replace(publisher.name_en, here.name_en),
        ),
        definition.description,
        list(version.group_codes),
        list(version.served_unit_codes),
    )
    editing.publish(version, utcnow())
    return version


def _previous_round(version, units, wanted: int, rng: random.Random) -> Round:
    """The closed spring round with its own simulated answers; closing it ran the rules."""
    round_ = db.session.scalar(select(Round).where(Round.name == PREVIOUS_ROUND_NAME))
    if round_ is not None:
        return round_
    now = utcnow()
    opened = now - timedelta(days=200)
    round_ = Round(
        name=PREVIOUS_ROUND_NAME,
        version=version,
        status="open",
        opened_at=opened,
        opens_at=opened,
        closes_at=opened + timedelta(days=45),
        created_at=opened - timedelta(days=7),
    )
    version.frozen_at = version.frozen_at or now
    db.session.add(round_)
    db.session.flush()
    _simulate(
        round_, units, wanted, rng, SPRING_ITEM_SATISFIED_SHARE, when=opened + timedelta(days=20)
    )
    rounds.close_round(round_, round_.closes_at)
    db.session.commit()
    return round_


def _fixed_over_the_summer(spring: Round, at) -> None:
    """Spring's document-timeliness action went round the loop over the summer and waits for
    verification, so that the demo shows one: every autumn answer comes after its fix. Only
    the action as the rules left it is moved, so a second run changes nothing."""
    action = db.session.scalar(
        select(CorrectiveAction).where(
            CorrectiveAction.round_id == spring.id,
            CorrectiveAction.question_code == SUMMER_FIX,
            CorrectiveAction.status == "open",
            CorrectiveAction.owner_id.is_(None),
        )
    )
    if action is None:
        return
    lead = db.session.scalar(User.by_email(at(ACCOUNTS[2][1])))
    owner = db.session.scalar(User.by_email(at(OWNERS[1][1])))
    day = spring.closes_at + timedelta(days=5)

    def on(days: int):
        return day + timedelta(days=days)

    corrective.assign(action, owner, (utcnow() + timedelta(days=30)).date(), lead, on(0))
    db.session.flush()  # the owner's id, which the owner's moves are checked against
    corrective.move(action, "start_investigation", owner, on(1))
    corrective.record(
        action,
        "investigation",
        owner,
        on(2),
        containment="逐一电话催办逾期公文",
        cause_method="five_whys",
        root_cause="公文流转没有办理时限跟踪，逾期无人提醒",
        elsewhere=False,
    )
    step = corrective.add_step(
        action, "corrective", "建立每周公文办理时限清单并通报", owner, on(30).date(), owner, on(3)
    )
    corrective.move(action, "plan", owner, on(3))
    corrective.update_step(step, True, "自六月起每周一通报", owner, on(28))
    corrective.record(action, "action_taken", owner, on(29), action_taken="每周一通报逾期公文清单")
    corrective.move(action, "implement", owner, on(30))
    corrective.move(action, "request_verification", owner, on(31))


def _owner(unit_code: str, email: str, password: str, name: str) -> tuple[str, str, str]:
    user = db.session.scalar(User.by_email(email))
    if user is None:
        user = User(email=email, role="respondent", display_name=name)
        db.session.add(user)
    user.set_password(password)
    user.unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    return unit_code, email, password


def _account(role: str, email: str, password: str, name: str, unit_code: str | None):
    user = db.session.scalar(User.by_email(email))
    if user is None:
        user = User(email=email, role=role, display_name=name)
        db.session.add(user)
    user.set_password(password)
    if unit_code:
        user.unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    return role, email, password


def _round(version) -> Round:
    round_ = db.session.scalar(select(Round).where(Round.name == ROUND_NAME))
    if round_ is None:
        now = utcnow()
        round_ = Round(
            name=ROUND_NAME,
            version=version,
            status="open",
            opened_at=now,
            opens_at=now - timedelta(days=7),
            closes_at=now + timedelta(days=60),
        )
        version.frozen_at = version.frozen_at or now
        db.session.add(round_)
        db.session.flush()
    return round_


def _simulate(
    round_: Round,
    units,
    wanted: int,
    rng: random.Random,
    item_shares: dict[str, float] | None = None,
    when=None,
) -> int:
    have = db.session.scalar(select(func.count()).where(Response.round_id == round_.id))
    questionnaire = to_model(round_.version)
    groups = {g.id: g.code for g in db.session.scalars(select(RespondentGroup))}
    made = 0
    for k in range(have, wanted):
        unit = units[k % len(units)]
        invitation = invitations.issue(round_, unit, person_name=f"模拟答卷人 {k + 1}")
        db.session.flush()
        shown = questionnaire.for_group(groups[unit.group_id])
        answers, comments = _simulated_answers(shown, rng, item_shares)
        responses.submit(
            invitation,
            answers,
            comments,
            f"demo-{round_.id}-{k}",
            when or utcnow(),
            source=rng.choice(("web",) * 8 + ("paper", "meeting")),
        )
        made += 1
    return made


def _simulated_answers(
    q: Questionnaire, rng: random.Random, item_shares: dict[str, float] | None = None
):
    answers, comments = {}, {}
    mood = rng.gauss(0.0, 1.0)
    for question in q.questions():
        answers[question.code] = _simulated_value(question, rng, item_shares, mood)
        value = answers[question.code]
        low = question.follow_up and isinstance(value, int) and question.scale.is_low(value)
        if low and rng.random() < 0.6:
            comments[question.code] = rng.choice(
                LOW_COMMENTS.get(question.category or "", OTHER_LOW_COMMENTS)
            )
    return answers, comments


def _simulated_value(
    question: Question,
    rng: random.Random,
    item_shares: dict[str, float] | None = None,
    mood: float = 0.0,
):
    return SIMULATED[question.type](question, rng, item_shares or {}, mood)


def _simulated_rating(question: Question, rng: random.Random, item_shares: dict, mood: float):
    if not question.required and rng.random() < 0.05:
        return None
    points = list(question.scale.values)
    if len(points) != 5:
        return rng.choice(points)
    shares = {**ITEM_SATISFIED_SHARE, **item_shares}
    share = shares.get(question.code, SATISFIED_SHARE.get(question.category or "", 0.85))
    return _rated(points, share, _mood_weight(question), mood, rng)


def _simulated_multi(question: Question, rng: random.Random, *_: object):
    picked = [c.code for c in question.choices if rng.random() < 0.4]
    return tuple(picked or [question.choices[0].code])


#: A simulated answer per question type (a test ties it to questionnaires.QUESTION_TYPES).
SIMULATED = {
    "rating": _simulated_rating,
    "nps": lambda question, rng, *_: rng.choice(question.scale.values[5:]),
    "choice": lambda question, rng, *_: rng.choice(question.choices).code,
    "multi": _simulated_multi,
    "text": lambda question, rng, *_: (
        rng.choice(("", "", "", "希望继续保持，进一步提高办文效率。")) or None
    ),
    "integer": lambda question, rng, *_: rng.randint(
        question.min_value if question.min_value is not None else 0,
        question.max_value if question.max_value is not None else 100,
    ),
    "note": lambda *_: None,
}


def _mood_weight(question: Question) -> float:
    if question.category == "overall":
        return MOOD_WEIGHT_OVERALL
    low, high = MOOD_WEIGHT_RANGE
    # Fixed per item (a hash of its code), so that both demo rounds rank the drivers alike.
    return low + (high - low) * (zlib.crc32(question.code.encode()) % 1000) / 999


def _rated(points: list[int], share: float, weight: float, mood: float, rng: random.Random) -> int:
    """A point of a 5-point scale: the better the answer's latent score (the respondent's mood
    with `weight`, the rest noise), the higher the point. The latent score is standard normal
    whatever the weight, so the item's share of satisfied answers (4 or 5) is `share`."""
    latent = weight * mood + math.sqrt(1 - weight * weight) * rng.gauss(0.0, 1.0)
    below = 1 - _NORMAL.cdf(latent)  # uniform on (0, 1): the share of answers better than this
    cuts = [share * SATISFIED_SPLIT[0], share]
    cuts += [share + (1 - share) * sum(OTHER_SPLIT[: i + 1]) for i in range(2)]
    best_first = points[::-1]
    for point, cut in zip(best_first, cuts):
        if below < cut:
            return point
    return best_first[-1]


def _unused_invitation_per_group(round_: Round) -> list[tuple[str, Invitation]]:
    found = []
    for group in db.session.scalars(select(RespondentGroup).order_by(RespondentGroup.position)):
        invitation = db.session.scalar(
            select(Invitation)
            .where(
                Invitation.round_id == round_.id,
                Invitation.group_id == group.id,
                Invitation.status.in_(("sent", "started")),
            )
            .order_by(Invitation.id)
        )
        if invitation is None:
            unit = db.session.scalar(select(Unit).where(Unit.group_id == group.id))
            if unit is None:
                continue
            invitation = invitations.issue(round_, unit, person_name="演示 demo")
            db.session.flush()
        found.append((group.code, invitation))
    return found


@click.command("demo")
@click.option(
    "--responses",
    "wanted",
    default=0,
    show_default=True,
    help="Top the demo round up to this many simulated responses.",
)
@with_appcontext
def demo(wanted: int) -> None:
    """Load the demo: questionnaires, units, one account per role, an open round, invitations."""
    report = run(responses_wanted=wanted)
    click.echo(f"# demo loaded; {report.simulated} simulated responses added")
    for role, email, password in report.logins:
        click.echo(f"login {role} {email} {password}")
    click.echo(f"round {report.round.id} {report.round.name}")
    for group, invitation in report.invites:
        click.echo(f"invite {group} {invitation_url(invitation)}")
    if report.previous_round:
        click.echo(f"previous-round {report.previous_round.id} {report.previous_round.name}")
    for unit, email, password in report.owners:
        click.echo(f"owner {unit} {email} {password}")
    click.echo(f"actions {report.open_actions} open")
    for point in report.points:
        click.echo(f"point {point.code} {service_points.public_url(point)}")


# The offices that took up Shaoxing's system (the story's "nearly ten"), two of them here: each
# with the same demo as Shaoxing's, its own accounts and figures of its own (another seed).
OTHER_OFFICES = (
    (
        "ningbo",
        "宁波市人民政府办公厅",
        "Ningbo Municipal Government Office",
        "ningbo.example",
        2005,
    ),
    (
        "xiacheng",
        "杭州市下城区人民政府办公室",
        "Xiacheng District Office, Hangzhou",
        "xiacheng.example",
        2006,
    ),
    # Three more: an office's figures are set against the others' only when at least five
    # others publish them (BENCHMARK_MIN_OFFICES).
    (
        "jiaxing",
        "嘉兴市人民政府办公室",
        "Jiaxing Municipal Government Office",
        "jiaxing.example",
        2007,
    ),
    (
        "huzhou",
        "湖州市人民政府办公室",
        "Huzhou Municipal Government Office",
        "huzhou.example",
        2008,
    ),
    (
        "shangyu",
        "上虞市人民政府办公室",
        "Shangyu City Government Office",
        "shangyu.example",
        2009,
    ),
)
# One person who works for every office: a provincial quality lead, who switches between them.
PROVINCIAL = ("province@zhejiang.example", "demo-province-2004", "省政府办公厅 质量督查")


@click.command("demo-offices")
@click.option(
    "--responses",
    "wanted",
    default=HISTORY_MINIMUM + 20,
    show_default=True,
    help="Simulated responses of each other office's demo round.",
)
@with_appcontext
def demo_offices(wanted: int) -> None:
    """More offices, each with the demo of ``flask demo`` on the questionnaire the first office
    shares as a template, and a provincial quality lead in every office (run ``flask demo``
    first: the first office keeps its own demo)."""
    with tenancy.unscoped():
        first = db.session.scalars(select(Office).order_by(Office.position, Office.id)).first()
    with tenancy.office(first.id):
        shared = editing.find_version(load(DEFINITIONS_DIR / QUESTIONNAIRE_FILE).id)
        if shared is None:
            raise click.ClickException(
                "run `flask demo` first: the first office shares its questionnaire"
            )
        template, _ = questionnaire_templates.share(shared, None, utcnow())
        db.session.commit()
    click.echo(f"template {template.code} revision {template.revision} shared by {first.code}")
    for code, name_zh, name_en, domain, seed in OTHER_OFFICES:
        office = offices.by_code(code) or offices.create(code, name_zh, name_en)
        db.session.commit()
        with tenancy.office(office.id):
            report = run(responses_wanted=wanted, seed=seed, mail_domain=domain, template=template)
        click.echo(f"office {code} {report.simulated} simulated responses added")
        with tenancy.office(office.id):
            for point in report.points:
                click.echo(f"point {code} {point.code} {service_points.public_url(point)}")
        for role, email, password in report.logins:
            click.echo(f"login {code} {role} {email} {password}")
    email, password, name = PROVINCIAL
    person = db.session.scalar(User.by_email(email))
    if person is None:
        person = User(email=email, display_name=name)
        db.session.add(person)
    person.set_password(password)
    with tenancy.unscoped():
        every = db.session.scalars(select(Office).order_by(Office.position, Office.id)).all()
    for office in every:
        with tenancy.office(office.id):
            person.role = "quality_lead"
    db.session.commit()
    click.echo(f"login {','.join(o.code for o in every)} quality_lead {email} {password}")


COMMANDS = (demo, demo_offices)
