"""Conditions (skip logic): when a question or a section is shown.

A condition is the text of a question's or a section's ``show_if:``, a subset of XLSForm's
``relevant`` expressions, so that a form's ``relevant`` column maps to it one to one::

    ${used_meetings} = 'yes'                      a choice question's answer
    ${doc_speed} <= 2                             a rating (=, !=, <, <=, >, >=)
    selected(${channels}, 'phone')                a choice ticked in a several-choices question
    ${comment} != ''                              the question was answered ('' = unanswered)
    not(${a} = 'yes') and (${b} >= 4 or ${c} = 'no')

Literals are 'text' (or "text") and whole numbers; ``and`` binds tighter than ``or``;
``not(...)`` needs its parentheses, as in XPath. A question a condition refers to that was
not answered, or not shown itself (an earlier condition, or another respondent group's item),
makes every comparison false, as in ODK, except the comparison with '' that asks exactly that.

Everything here is pure: the loader checks conditions (`check`), the survey app computes which
questions a respondent is shown from the answers (`shown`), the browser gets `to_json`, and
`describe` says in words when to answer, for a page without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Union

from .messages import N_, Message, message
from .model import Question, Questionnaire

# Longest condition accepted: a real one is a line; a pasted essay is a mistake.
MAX_LENGTH = 1000
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
_FLIPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class ConditionError(ValueError):
    """A condition that cannot be used; `message` is the reason, translated where shown."""

    def __init__(self, reason: Message) -> None:
        super().__init__(str(reason))
        self.message = reason


# ------------------------------------------------------------------------------ the tree


@dataclass(frozen=True)
class Compare:
    """``${code} op value``: a literal on the right (the parser turns ``2 >= ${a}`` round)."""

    code: str
    op: str
    value: str | int


@dataclass(frozen=True)
class Selected:
    code: str
    value: str


@dataclass(frozen=True)
class Not:
    arg: Condition


@dataclass(frozen=True)
class And:
    args: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    args: tuple[Condition, ...]


Condition = Union[Compare, Selected, Not, And, Or]  # noqa: UP007 - a runtime alias

# ------------------------------------------------------------------------------ parsing

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\$\{(?P<code>[^}]*)\})
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<number>-?[0-9]+(?![0-9.]))
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)
_CODE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class _Token:
    kind: str  # ref, string, number, op, punct, word, end
    text: str
    value: Any
    at: int  # 1-based character position, for messages


def _tokens(text: str) -> list[_Token]:
    tokens, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            tokens.append(_Token("end", "", None, pos + 1))
            return tokens
        match = _TOKEN.match(text, pos)
        if match is None:
            template = N_("unexpected %(text)s at character %(at)s")
            raise ConditionError(message(template, text=repr(text[pos : pos + 10]), at=pos + 1))
        kind = next(k for k in ("ref", "string", "number", "op", "punct", "word") if match[k])
        at = match.start(kind) + 1
        if kind == "ref":
            code = match["code"].strip()
            if not _CODE.fullmatch(code):
                template = N_("%(ref)s at character %(at)s is not a question code")
                raise ConditionError(message(template, ref=match[kind], at=at))
            value: Any = code
        elif kind == "string":
            value = match[kind][1:-1]
        elif kind == "number":
            if len(match[kind]) > 12:
                template = N_("the number at character %(at)s is too long")
                raise ConditionError(message(template, at=at))
            value = int(match[kind])
        else:
            value = match[kind]
        tokens.append(_Token(kind, match[kind], value, at))
        pos = match.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        if self.token.text != text:
            self.fail(N_("expected %(expected)s"), expected=repr(text))
        self.take()

    def fail(self, template: str, **params: object) -> None:
        token = self.token
        found = message(N_("the end")) if token.kind == "end" else repr(token.text)
        full = message(
            N_("%(problem)s at character %(at)s, found %(found)s"),
            problem=message(template, **params),
            at=token.at,
            found=found,
        )
        raise ConditionError(full)

    def is_word(self, word: str) -> bool:
        return self.token.kind == "word" and self.token.text == word

    def condition(self) -> Condition:
        self.depth += 1
        if self.depth > 50:
            self.fail(N_("nested too deeply"))
        args = [self.conjunction()]
        while self.is_word("or"):
            self.take()
            args.append(self.conjunction())
        self.depth -= 1
        return args[0] if len(args) == 1 else Or(tuple(args))

    def conjunction(self) -> Condition:
        args = [self.unary()]
        while self.is_word("and"):
            self.take()
            args.append(self.unary())
        return args[0] if len(args) == 1 else And(tuple(args))

    def unary(self) -> Condition:
        if self.is_word("not"):
            self.take()
            self.expect("(")
            inner = self.condition()
            self.expect(")")
            return Not(inner)
        if self.is_word("selected"):
            self.take()
            self.expect("(")
            if self.token.kind != "ref":
                self.fail(N_("expected a question such as ${code}"))
            code = self.take().value
            self.expect(",")
            if self.token.kind not in ("string", "number"):
                self.fail(N_("expected a choice code in quotes"))
            value = str(self.take().value)
            self.expect(")")
            return Selected(code, value)
        if self.token.text == "(":
            self.take()
            inner = self.condition()
            self.expect(")")
            return inner
        return self.comparison()

    def operand(self) -> _Token:
        if self.token.kind not in ("ref", "string", "number"):
            if self.token.kind == "word":
                self.fail(N_("an unknown word (text goes in quotes, such as 'yes')"))
            self.fail(N_("expected a question such as ${code}, or a value"))
        return self.take()

    def comparison(self) -> Condition:
        left = self.operand()
        if self.token.kind != "op":
            self.fail(N_("expected one of %(ops)s"), ops=" ".join(COMPARISONS))
        op = self.take().text
        right = self.operand()
        if left.kind == "ref" and right.kind != "ref":
            return Compare(left.value, op, right.value)
        if right.kind == "ref" and left.kind != "ref":
            return Compare(right.value, _FLIPPED[op], left.value)
        template = N_("compare a question with a value (at character %(at)s)")
        raise ConditionError(message(template, at=left.at))


@lru_cache(maxsize=4096)
def parse(text: str) -> Condition:
    """The condition `text` says, or ConditionError with the reason (and the character)."""
    if len(text) > MAX_LENGTH:
        template = N_("a condition has at most %(n)s characters")
        raise ConditionError(message(template, n=MAX_LENGTH))
    if not text.strip():
        raise ConditionError(message(N_("the condition is empty")))
    parser = _Parser(text)
    condition = parser.condition()
    if parser.token.kind != "end":
        parser.fail(N_("expected and, or, or the end"))
    return condition


def references(condition: str | Condition) -> tuple[str, ...]:
    """The question codes a condition refers to, each once, in order of appearance."""
    tree = parse(condition) if isinstance(condition, str) else condition
    found: dict[str, None] = {}
    for node in _walk(tree):
        if isinstance(node, Compare | Selected):
            found[node.code] = None
    return tuple(found)


def _walk(node: Condition) -> Iterable[Condition]:
    yield node
    if isinstance(node, Not):
        yield from _walk(node.arg)
    elif isinstance(node, And | Or):
        for arg in node.args:
            yield from _walk(arg)


# --------------------------------------------------------------------------- evaluating


def _unanswered(value: Any) -> bool:
    return value is None or value == "" or value == () or value == []


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,12}", value.strip()):
        return int(value)
    return None


def _compare(answer: Any, op: str, literal: str | int) -> bool:
    if literal == "":  # '' asks whether the question was answered at all
        return _unanswered(answer) == (op == "=") if op in ("=", "!=") else False
    if _unanswered(answer):
        return False
    left, right = _number(answer), _number(literal)
    if left is None or right is None:
        if isinstance(answer, tuple | list):  # several choices: XLSForm's space-separated text
            answer = " ".join(answer)
        left, right = str(answer), str(literal)  # type: ignore[assignment]
    return {
        "=": left == right,
        "!=": left != right,
        "<": left < right,  # type: ignore[operator]
        "<=": left <= right,  # type: ignore[operator]
        ">": left > right,  # type: ignore[operator]
        ">=": left >= right,  # type: ignore[operator]
    }[op]


def _holds(node: Condition, answers: Mapping[str, Any]) -> bool:
    if isinstance(node, Compare):
        return _compare(answers.get(node.code), node.op, node.value)
    if isinstance(node, Selected):
        answer = answers.get(node.code)
        if isinstance(answer, tuple | list):
            return node.value in answer
        return answer is not None and str(answer) == node.value
    if isinstance(node, Not):
        return not _holds(node.arg, answers)
    if isinstance(node, And):
        return all(_holds(arg, answers) for arg in node.args)
    return any(_holds(arg, answers) for arg in node.args)


def evaluate(condition: str | Condition | None, answers: Mapping[str, Any]) -> bool:
    """Whether `condition` holds for `answers` (question code -> parsed value: an int for a
    rating, a choice code, a tuple of codes for several choices, text). A code missing from
    `answers`, or None, is an unanswered (or hidden) question. No condition always holds."""
    if condition is None:
        return True
    tree = parse(condition) if isinstance(condition, str) else condition
    return _holds(tree, answers)


def shown(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> frozenset[str]:
    """The codes of the questions a respondent with `answers` is shown, in the order of the
    questionnaire: a section whose condition fails hides all its questions, and a hidden
    question's answer counts as not given for every later condition."""
    visible: dict[str, Any] = {}
    for section in questionnaire.sections:
        if not evaluate(section.show_if, visible):
            continue
        for q in section.questions:
            if evaluate(q.show_if, visible):
                visible[q.code] = answers.get(q.code)
    return frozenset(visible)


def dependents(questionnaire: Questionnaire, codes: Iterable[str]) -> frozenset[str]:
    """The questions whose being asked depends on an answer to one of ``codes``, or on an
    answer of respondents other than their own: their own condition, or their section's,
    refers to one of ``codes``, to another such question, or to a question asked of other
    groups than they are (``audience``).

    Who was asked such a question repeats the answers it depends on: its number of answers,
    its texts and whether it has any are those answers again, and for a question of another
    audience, those of a set of respondents no published figure is about. The results
    withhold them."""
    everyone = frozenset(g.code for g in questionnaire.groups)
    audience = {q.code: frozenset(q.audience) or everyone for q in questionnaire.questions()}
    tainted = set(codes)
    found: set[str] = set()

    def depends(condition: str | None, own: frozenset[str]) -> bool:
        if not condition:
            return False
        named = set(references(condition))
        return bool(named & tainted) or any(audience.get(c, own) != own for c in named)

    for section in questionnaire.sections:  # conditions refer only to earlier questions
        for q in section.questions:
            own = audience[q.code]
            if depends(section.show_if, own) or depends(q.show_if, own):
                found.add(q.code)
                tainted.add(q.code)
    return frozenset(found)


def has_conditions(questionnaire: Questionnaire) -> bool:
    return any(s.show_if for s in questionnaire.sections) or any(
        q.show_if for q in questionnaire.questions()
    )


# --------------------------------------------------------------------------- for the browser


def to_json(condition: str | Condition) -> dict[str, Any]:
    """The condition as plain JSON for the browser's script (survey/static/conditions.js):
    ``{"op": "=", "q": code, "v": value}``, ``{"op": "selected", ...}``, ``{"op": "not",
    "arg": ...}``, ``{"op": "and" | "or", "args": [...]}``."""
    node = parse(condition) if isinstance(condition, str) else condition
    if isinstance(node, Compare):
        return {"op": node.op, "q": node.code, "v": node.value}
    if isinstance(node, Selected):
        return {"op": "selected", "q": node.code, "v": node.value}
    if isinstance(node, Not):
        return {"op": "not", "arg": to_json(node.arg)}
    return {"op": "and" if isinstance(node, And) else "or", "args": [to_json(a) for a in node.args]}


# ---------------------------------------------------------------------------- checking


def check(
    condition: str,
    earlier: Mapping[str, Question],
    later: Iterable[str],
    own: Iterable[str] = (),
    itself: str | None = None,
) -> Condition:
    """Parse `condition` and check it against the questionnaire: every code is a question
    `earlier` in the file (those `later`, the section's `own` questions and the question
    `itself` are refused with their own reason: a condition on them could never be decided
    before they are shown, and would let conditions form a cycle), and each comparison fits
    its question's type. Raises ConditionError."""
    tree = parse(condition)
    later, own = frozenset(later), frozenset(own)
    for node in _walk(tree):
        if not isinstance(node, Compare | Selected):
            continue
        code = node.code
        if code not in earlier:
            if code == itself:
                template = N_(
                    "the condition refers to its own question %(code)s (a cycle): "
                    "it can only refer to earlier questions"
                )
            elif code in own:
                template = N_(
                    "a section's condition cannot refer to its own question %(code)s; "
                    "it can only refer to questions of earlier sections"
                )
            elif code in later:
                template = N_(
                    "the condition refers to question %(code)s, which comes later; "
                    "a condition can only refer to earlier questions"
                )
            else:
                template = N_("the condition refers to an unknown question %(code)s")
            raise ConditionError(message(template, code=repr(code)))
        _check_fits(node, earlier[code])
    return tree


def _check_fits(node: Compare | Selected, q: Question) -> None:
    from .types import QUESTION_TYPES  # types imports model only; kept local to stay acyclic

    qtype = QUESTION_TYPES.get(q.type)
    choices = [c.code for c in q.choices]
    code = repr(q.code)
    if isinstance(node, Selected):
        if qtype is None or not qtype.multiple:
            template = N_(
                "selected() is for several-choices questions; %(code)s is a %(type)s "
                "question: compare it with = instead"
            )
            raise ConditionError(message(template, code=code, type=q.type))
        if node.value not in choices:
            template = N_("%(value)s is not one of the choices of question %(code)s (%(choices)s)")
            params = {"value": repr(node.value), "code": code, "choices": ", ".join(choices)}
            raise ConditionError(message(template, **params))
        return
    if qtype is not None and not qtype.answered:
        template = N_("question %(code)s is a note: it has no answer to refer to")
        raise ConditionError(message(template, code=code))
    if node.value == "" and node.op in ("=", "!="):
        return  # answered or not: any question
    if qtype is not None and qtype.multiple:
        template = N_(
            "question %(code)s takes several choices: use selected(${%(plain)s}, 'choice')"
        )
        raise ConditionError(message(template, code=code, plain=q.code))
    scale = qtype.scale_of(q) if qtype is not None else None
    # Ratings and nps (on a scale), and whole numbers (integer: a number input, on no scale).
    if qtype is not None and (qtype.numeric or qtype.field == "number"):
        value = _number(node.value)
        if value is None:
            template = N_("question %(code)s is answered with a number, not %(value)s")
            raise ConditionError(message(template, code=code, value=repr(node.value)))
        if scale is not None and value not in scale.values:
            template = N_("%(value)s is not a point of the scale of question %(code)s (%(points)s)")
            points = ", ".join(str(v) for v in scale.values)
            raise ConditionError(message(template, value=value, code=code, points=points))
        return
    if node.op not in ("=", "!="):
        template = N_("question %(code)s has no order: compare it with = or != only")
        raise ConditionError(message(template, code=code))
    if qtype is not None and qtype.has_choices and str(node.value) not in choices:
        template = N_("%(value)s is not one of the choices of question %(code)s (%(choices)s)")
        params = {"value": repr(node.value), "code": code, "choices": ", ".join(choices)}
        raise ConditionError(message(template, **params))


# --------------------------------------------------------------------------- in words


_OP_WORDS = {
    "=": N_("you answered %(answer)s to %(question)s"),
    "!=": N_("you did not answer %(answer)s to %(question)s"),
    "<": N_("your answer to %(question)s is below %(answer)s"),
    "<=": N_("your answer to %(question)s is %(answer)s or lower"),
    ">": N_("your answer to %(question)s is above %(answer)s"),
    ">=": N_("your answer to %(question)s is %(answer)s or higher"),
}


def describe(
    condition: str | Condition,
    question: Callable[[str], str],
    answer: Callable[[str, str | int], str],
) -> Message:
    """The condition in words, to tell a respondent without JavaScript when to answer:
    `question(code)` names a question ("question 3"), `answer(code, value)` a value of it
    ("'Yes'")."""
    node = parse(condition) if isinstance(condition, str) else condition
    if isinstance(node, Compare):
        if node.value == "" and node.op in ("=", "!="):
            template = (
                N_("you left %(question)s unanswered")
                if node.op == "="
                else N_("you answered %(question)s")
            )
            return message(template, question=question(node.code))
        return message(
            _OP_WORDS[node.op], question=question(node.code), answer=answer(node.code, node.value)
        )
    if isinstance(node, Selected):
        return message(
            N_("you chose %(answer)s in %(question)s"),
            question=question(node.code),
            answer=answer(node.code, node.value),
        )
    if isinstance(node, Not):
        inner = node.arg
        if isinstance(inner, Selected):
            return message(
                N_("you did not choose %(answer)s in %(question)s"),
                question=question(inner.code),
                answer=answer(inner.code, inner.value),
            )
        return message(N_("not (%(condition)s)"), condition=describe(inner, question, answer))
    parts = [
        message(N_("(%(condition)s)"), condition=describe(arg, question, answer))
        if isinstance(arg, And | Or)
        else describe(arg, question, answer)
        for arg in node.args
    ]
    template = (
        N_("%(first)s and %(second)s") if isinstance(node, And) else N_("%(first)s or %(second)s")
    )
    result = parts[0]
    for part in parts[1:]:
        result = message(template, first=result, second=part)
    return result
