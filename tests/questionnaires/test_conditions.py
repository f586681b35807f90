"""Conditions (skip logic): parsing, evaluating, checking against a questionnaire, the loader's
errors with file and line, the JSON for the browser and the words for a page without script."""

from __future__ import annotations

import contextlib
from textwrap import dedent

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questionnaires import QuestionnaireError, dump, loads
from questionnaires.conditions import (
    And,
    Compare,
    ConditionError,
    Not,
    Or,
    Selected,
    dependents,
    describe,
    evaluate,
    parse,
    references,
    shown,
    to_json,
)
from tests.conditional import CONDITIONAL, CONDITIONAL_YAML

# --- parsing ----------------------------------------------------------------------------


def test_parses_the_xlsform_subset():
    assert parse("${a} = 'yes'") == Compare("a", "=", "yes")
    assert parse('${a} != "no"') == Compare("a", "!=", "no")
    assert parse("${r} <= 2") == Compare("r", "<=", 2)
    assert parse("${r} >= -3") == Compare("r", ">=", -3)
    assert parse("2 > ${r}") == Compare("r", "<", 2)  # a literal first is turned round
    assert parse("selected(${m}, 'phone')") == Selected("m", "phone")
    assert parse("not(${a} = 'x')") == Not(Compare("a", "=", "x"))
    assert parse("${a} = 'x' or ${b} = 'y' and ${c} = 'z'") == Or(
        (Compare("a", "=", "x"), And((Compare("b", "=", "y"), Compare("c", "=", "z"))))
    )
    assert parse("(${a} = 'x' or ${b} = 'y') and ${c} = 'z'") == And(
        (Or((Compare("a", "=", "x"), Compare("b", "=", "y"))), Compare("c", "=", "z"))
    )
    assert parse("  ${ a }='x'  ") == Compare("a", "=", "x")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the condition is empty"),
        (
            "${a} = ",
            "expected a question such as ${code}, or a value at character 8, found the end",
        ),
        ("${a} 'x'", "expected one of = != < <= > >= at character 6, found \"'x'\""),
        ("(${a} = 'x'", "expected ')' at character 12, found the end"),
        ("${a} = yes", "an unknown word (text goes in quotes, such as 'yes') at character 8"),
        ("${A} = 'x'", "${A} at character 1 is not a question code"),
        ("${a} = 'x' ${b}", "expected and, or, or the end at character 12"),
        ("${a} = ${b}", "compare a question with a value (at character 1)"),
        ("1 = 2", "compare a question with a value (at character 1)"),
        ("not ${a} = 'x'", "expected '(' at character 5"),
        ("${a} = 1.5", "unexpected"),
        ("${a} == 'x'", "expected a question such as ${code}, or a value at character 7"),
        ("selected(${a}, ${b})", "expected a choice code in quotes at character 16"),
        ("${a} = 'x", "unexpected"),
        ("x" * 1001, "at most 1000 characters"),
        ("(" * 60 + "${a} = 1" + ")" * 60, "nested too deeply"),
    ],
)
def test_syntax_errors_say_what_and_where(text, reason):
    with pytest.raises(ConditionError) as info:
        parse(text)
    assert reason in str(info.value)


def test_references_in_order_each_once():
    assert references("${b} = 1 and (selected(${a}, 'x') or not(${b} = 2))") == ("b", "a")


# --- evaluating -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answers", "expected"),
    [
        ("${a} = 'yes'", {"a": "yes"}, True),
        ("${a} = 'yes'", {"a": "no"}, False),
        ("${a} = 'yes'", {}, False),  # unanswered or hidden: false
        ("${a} != 'yes'", {}, False),  # ... every comparison, as in ODK
        ("${a} != 'yes'", {"a": "no"}, True),
        ("${r} <= 2", {"r": 2}, True),
        ("${r} <= 2", {"r": 3}, False),
        ("${r} < 2", {"r": None}, False),
        ("${r} > 9", {"r": 10}, True),  # numbers, not text ("10" < "9")
        ("${r} = '4'", {"r": 4}, True),
        ("${a} = ''", {}, True),  # '' asks whether it was answered
        ("${a} = ''", {"a": "x"}, False),
        ("${a} != ''", {"a": "x"}, True),
        ("${m} != ''", {"m": ()}, False),
        ("selected(${m}, 'phone')", {"m": ("mail", "phone")}, True),
        ("selected(${m}, 'phone')", {"m": ("mail",)}, False),
        ("selected(${m}, 'phone')", {}, False),
        ("not(selected(${m}, 'phone'))", {}, True),
        ("${a} = 'x' and ${b} = 'y'", {"a": "x", "b": "y"}, True),
        ("${a} = 'x' and ${b} = 'y'", {"a": "x"}, False),
        ("${a} = 'x' or ${b} = 'y'", {"b": "y"}, True),
    ],
)
def test_evaluate(text, answers, expected):
    assert evaluate(text, answers) is expected


def test_no_condition_always_holds():
    assert evaluate(None, {}) is True


def test_shown_follows_the_order_and_hides_sections():
    codes = lambda answers: sorted(shown(CONDITIONAL, answers))  # noqa: E731
    assert codes({}) == ["overall", "used_meetings"]
    assert codes({"used_meetings": "yes"}) == [
        "mtg_rating",
        "mtg_rooms",
        "overall",
        "used_meetings",
    ]
    assert "mtg_problem" in shown(CONDITIONAL, {"used_meetings": "yes", "mtg_rating": 1})
    # The rating's answer no longer counts once "no" hides it: the part stays hidden.
    assert "mtg_problem" not in shown(CONDITIONAL, {"used_meetings": "no", "mtg_rating": 1})


def test_shown_for_a_group_treats_other_groups_items_as_unanswered():
    departments = CONDITIONAL.for_group("departments")
    assert "mtg_rooms" not in shown(departments, {"used_meetings": "yes", "mtg_rooms": 1})


CODES = st.sampled_from(["a", "b", "c"])
LITERALS = st.one_of(st.integers(-5, 5), st.sampled_from(["", "x", "y", "3"]))
ATOMS = st.one_of(
    st.builds(Compare, CODES, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), LITERALS),
    st.builds(Selected, CODES, st.sampled_from(["x", "y"])),
)
TREES = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(lambda a: And(tuple(a)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda a: Or(tuple(a)), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=8,
)
ANSWERS = st.dictionaries(
    CODES,
    st.one_of(
        st.none(),
        st.integers(-5, 5),
        st.sampled_from(["x", "y", "3"]),
        st.tuples(st.sampled_from(["x", "y"])),
    ),
)


def _text(node) -> str:
    """The source text of a tree, as a designer would write it."""
    if isinstance(node, Compare):
        value = node.value if isinstance(node.value, int) else f"'{node.value}'"
        return f"${{{node.code}}} {node.op} {value}"
    if isinstance(node, Selected):
        return f"selected(${{{node.code}}}, '{node.value}')"
    if isinstance(node, Not):
        return f"not({_text(node.arg)})"
    joiner = " and " if isinstance(node, And) else " or "
    return joiner.join(f"({_text(a)})" for a in node.args)


@given(TREES, ANSWERS)
def test_written_conditions_parse_back_and_evaluate_alike(tree, answers):
    text = _text(tree)
    assert evaluate(parse(text), answers) == evaluate(tree, answers)
    assert set(references(text)) == set(references(tree))


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_condition_error(text):
    with contextlib.suppress(ConditionError):
        parse(text)


# --- JSON and words ---------------------------------------------------------------------


def test_json_for_the_browser():
    assert to_json("not(${a} = 'x') and selected(${m}, 'p') or ${r} >= 4") == {
        "op": "or",
        "args": [
            {
                "op": "and",
                "args": [
                    {"op": "not", "arg": {"op": "=", "q": "a", "v": "x"}},
                    {"op": "selected", "q": "m", "v": "p"},
                ],
            },
            {"op": ">=", "q": "r", "v": 4},
        ],
    }


def test_describe_in_words():
    def words(text):
        return str(describe(text, lambda code: f"question {code}", lambda code, v: f"“{v}”"))

    assert words("${a} = 'yes'") == "you answered “yes” to question a"
    assert words("${r} <= 2") == "your answer to question r is “2” or lower"
    assert words("not(selected(${m}, 'p'))") == "you did not choose “p” in question m"
    assert words("${a} != ''") == "you answered question a"
    assert (
        words("(${a} = 'x' or ${a} = 'y') and ${r} > 3")
        == "(you answered “x” to question a or you answered “y” to question a) and "
        "your answer to question r is above “3”"
    )


# --- the loader ---------------------------------------------------------------------------

HEAD = """\
id: demo
title: Demo
sections:
  - code: first
    title: First
    questions:
      - code: used
        type: choice
        text: Used?
        choices:
          - {code: 'yes', label: 是}
          - {code: 'no', label: 否}
      - code: channels
        type: multi
        text: Channels
        choices:
          - {code: phone, label: 电话}
      - code: rate
        type: rating
        text: Rate
      - code: note
        type: text
        text: Note
"""


def load_with(question_show_if=None, section_show_if=None):
    """HEAD plus a second section (line 24, its show_if 26) with one question (its show_if 31)."""
    text = HEAD + "  - code: second\n    title: Second\n"
    text += f'    show_if: "{section_show_if}"\n' if section_show_if else "    description: x\n"
    text += "    questions:\n      - code: later\n        type: text\n        text: Later\n"
    if question_show_if:
        text += f'        show_if: "{question_show_if}"\n'
    return loads(text, filename="demo.yaml")


def load_error(**kwargs) -> QuestionnaireError:
    with pytest.raises(QuestionnaireError) as info:
        load_with(**kwargs)
    return info.value


def test_loader_reads_conditions_and_dump_round_trips():
    q = load_with("${used} = 'yes' and ${rate} >= 4", "selected(${channels}, 'phone')")
    assert q.question("later").show_if == "${used} = 'yes' and ${rate} >= 4"
    assert q.sections[1].show_if == "selected(${channels}, 'phone')"
    assert q.question("used").show_if is None
    text = dump(q)
    assert "show_if: selected(${channels}, 'phone')" in text
    assert loads(text) == q
    assert loads(dump(CONDITIONAL)) == CONDITIONAL


@pytest.mark.parametrize(
    ("show_if", "line", "reason"),
    [
        ("${used} = ", 31, "question 'later' show_if: expected a question such as ${code}"),
        ("${nope} = 'x'", 31, "refers to an unknown question 'nope'"),
        ("${later} != ''", 31, "refers to its own question 'later' (a cycle)"),
        ("${used} = 'maybe'", 31, "'maybe' is not one of the choices of question 'used' (yes, no)"),
        ("${used} = 1", 31, "1 is not one of the choices of question 'used'"),
        ("${used} < 'yes'", 31, "question 'used' has no order"),
        ("${note} >= 'a'", 31, "question 'note' has no order"),
        ("${rate} <= 7", 31, "7 is not a point of the scale of question 'rate' (1, 2, 3, 4, 5)"),
        ("${rate} = 'good'", 31, "question 'rate' is answered with a number, not 'good'"),
        ("selected(${used}, 'yes')", 31, "selected() is for several-choices questions"),
        ("selected(${channels}, 'fax')", 31, "'fax' is not one of the choices of question"),
        ("${channels} = 'phone'", 31, "use selected(${channels}, 'choice')"),
    ],
)
def test_loader_refuses_bad_question_conditions_with_file_and_line(show_if, line, reason):
    error = load_error(question_show_if=show_if)
    assert error.filename == "demo.yaml" and error.line == line
    assert reason in error.reason, error.reason


def test_a_section_condition_cannot_use_its_own_questions():
    error = load_error(section_show_if="${later} != ''")
    assert error.line == 26
    assert "section 'second' show_if: a section's condition cannot refer to its own question" in (
        error.reason
    )


def test_forward_references_are_refused_so_no_cycle_can_form():
    # a shown if b, b shown if a: the first condition is already a forward reference.
    text = dedent("""\
        id: demo
        title: Demo
        sections:
          - code: main
            title: Main
            questions:
              - {code: a, type: text, text: A, show_if: "${b} != ''"}
              - {code: b, type: text, text: B, show_if: "${a} != ''"}
        """)
    with pytest.raises(QuestionnaireError) as info:
        loads(text, filename="cycle.yaml")
    assert str(info.value) == (
        "cycle.yaml:7: question 'a' show_if: the condition refers to question 'b', which "
        "comes later; a condition can only refer to earlier questions"
    )


def test_a_question_of_a_later_section_is_a_forward_reference():
    text = HEAD.replace(
        "        text: Note\n", "        text: Note\n        show_if: \"${x} = 'y'\"\n"
    )
    text += "  - code: second\n    title: Second\n    questions:\n      - {code: x, type: text, text: X}\n"
    with pytest.raises(QuestionnaireError) as info:
        loads(text, filename="demo.yaml")
    assert "refers to question 'x', which comes later" in info.value.reason


def test_an_empty_show_if_counts_as_absent():
    text = HEAD.replace("        text: Note\n", "        text: Note\n        show_if:\n")
    assert loads(text).question("note").show_if is None


def test_condition_errors_are_translatable_messages():
    error = load_error(question_show_if="${nope} = 'x'")
    assert error.message.params["reason"].template == (
        "the condition refers to an unknown question %(code)s"
    )


def test_the_shared_conditional_file_loads():
    assert loads(CONDITIONAL_YAML).question("mtg_rating").show_if == "${used_meetings} = 'yes'"


def _with_number_and_note(show_if: str):
    text = dedent(f"""\
        id: demo
        title: Demo
        sections:
          - code: main
            title: Main
            questions:
              - {{code: staff, type: integer, text: Staff, min_value: 0}}
              - {{code: intro, type: note, text: About meetings}}
              - code: later
                type: text
                text: Later
                show_if: "{show_if}"
        """)
    return loads(text, filename="demo.yaml")


def test_a_whole_number_question_compares_by_number():
    q = _with_number_and_note("${staff} >= 100")
    assert q.question("later").show_if == "${staff} >= 100"
    assert evaluate("${staff} >= 100", {"staff": 250}) is True
    assert evaluate("${staff} >= 100", {"staff": 99}) is False


def test_a_condition_cannot_refer_to_a_note():
    with pytest.raises(QuestionnaireError) as info:
        _with_number_and_note("${intro} != ''")
    assert "question 'intro' is a note: it has no answer to refer to" in info.value.reason


def test_dependents_are_the_questions_asked_after_the_given_answers_transitively():
    # mtg_rating and mtg_rooms follow used_meetings; the part "problems" (mtg_problem)
    # follows mtg_rating; overall follows nothing.
    assert dependents(CONDITIONAL, {"used_meetings"}) == {"mtg_rating", "mtg_rooms", "mtg_problem"}
    assert dependents(CONDITIONAL, {"mtg_rating"}) == {"mtg_problem", "mtg_rooms"}
    assert dependents(CONDITIONAL, set()) == {"mtg_rooms"}


def test_a_question_asked_after_answers_of_another_audience_is_always_a_dependent():
    # mtg_rooms (mayors only) follows used_meetings (every group): its n would be the number
    # of mayors who said yes, a figure about the mayors that nothing else publishes.
    assert "mtg_rooms" in dependents(CONDITIONAL, set())
    assert "mtg_rating" not in dependents(CONDITIONAL, set())
