"""Whatever the input, the loader answers with a Questionnaire or a QuestionnaireError."""

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaires import DEFINITIONS_DIR, Questionnaire, QuestionnaireError, dump, loads

# No example database: it would be written into the working tree.
fuzz = settings(max_examples=300, database=None, deadline=None)

SHIPPED_LINES = [p.read_text("utf-8").splitlines() for p in sorted(DEFINITIONS_DIR.glob("*.yaml"))]
KEYS = [
    "id",
    "title",
    "sections",
    "groups",
    "served_units",
    "scales",
    "points",
    "satisfied",
    "dissatisfied",
    "value",
    "label",
    "code",
    "type",
    "text",
    "questions",
    "choices",
    "audience",
    "scale",
    "required",
    "zh",
    "en",
    "follow_up",
    "category",
    "served_unit",
    "help",
    "description",
    "min_value",
    "max_value",
    "max_length",
]
SNIPPETS = [
    "",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "&a ",
    "*a",
    "!!int x",
    "!!binary x",
    "2004-02-30",
    "yes",
    "1.5",
    "~",
    "'",
    '"',
    "\t",
    "rating",
    "nps",
    "choice",
    "multi",
    "text",
    "0x1F",
    "1_000",
    "9" * 5000,
    "\x00",
    "\ufeff",
    "satisfaction5",
    "mayors",
    "? ",
    "#",
    "|",
    ">",
]


def outcome(text) -> object:
    """Load `text`; anything but a Questionnaire or a QuestionnaireError fails the test."""
    try:
        return loads(text, filename="fuzz.yaml")
    except QuestionnaireError as err:
        assert err.filename == "fuzz.yaml" and err.reason
        assert err.line is None or err.line >= 1
        return err


@st.composite
def mutated_definitions(draw) -> str:
    """A shipped definition with a few lines deleted, repeated, swapped or edited."""
    lines = list(draw(st.sampled_from(SHIPPED_LINES)))
    for _ in range(draw(st.integers(1, 4))):
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "repeat", "swap", "insert", "replace"]))
        snippet = draw(st.sampled_from(SNIPPETS + KEYS))
        if action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "repeat":
            lines.insert(j, lines[i])
        elif action == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "insert":
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut] + snippet + lines[i][cut:]
        else:
            lines[i] = lines[i].split(":")[0] + ": " + snippet
    return "\n".join(lines) + "\n"


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.floats(allow_nan=False),
    st.sampled_from(SNIPPETS + KEYS),
    st.text(max_size=8),
)
structures = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)
    ),
    max_leaves=40,
)


@fuzz
@given(st.text())
def test_loader_never_raises_anything_else(text):
    outcome(text)


@fuzz
@given(st.binary())
def test_loader_never_raises_anything_else_on_bytes(data):
    outcome(data)


@fuzz
@given(mutated_definitions())
def test_loader_never_raises_anything_else_on_damaged_definitions(text):
    result = outcome(text)
    if isinstance(result, Questionnaire):
        assert loads(dump(result)) == result


@fuzz
@given(structures)
def test_loader_never_raises_anything_else_on_wrongly_shaped_yaml(data):
    outcome(yaml.safe_dump(data, allow_unicode=True))


def definition_with(labels: list[str]) -> dict:
    """A valid definition whose title, group, choice and question texts are `labels`."""
    title, group, choice, text = labels
    question = {
        "code": "a",
        "type": "choice",
        "text": {"zh": text, "en": "A"},
        "audience": ["g"],
        "choices": [{"code": "x", "label": choice}],
    }
    return {
        "id": "demo",
        "title": title,
        "groups": [{"code": "g", "label": {"en": group}}],
        "sections": [{"code": "s", "title": "S", "questions": [question]}],
    }


@fuzz
@given(st.lists(st.text(min_size=1).filter(str.strip), min_size=4, max_size=4))
def test_dump_round_trips_any_label_text(labels):
    questionnaire = loads(yaml.safe_dump(definition_with(labels), allow_unicode=True))
    assert loads(dump(questionnaire)) == questionnaire
