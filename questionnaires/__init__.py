"""Questionnaire definitions: the YAML file format, its loader and the shipped questionnaires.

Pure Python (standard library and PyYAML): the survey app, the analysis code and the tests all
use it without Flask or a database.
"""

from pathlib import Path

from .loader import QuestionnaireError, dump, load, load_dir, loads
from .model import (
    GRID_ROW_TYPE,
    GRID_TYPE,
    LANGUAGES,
    Choice,
    Grid,
    GridRows,
    Group,
    Label,
    Question,
    Questionnaire,
    Scale,
    ScalePoint,
    Section,
    ServedUnit,
)
from .types import (
    BUILTIN_SCALES,
    INTEGER_LIMIT,
    MAX_TEXT_LENGTH,
    NPS11,
    QUESTION_TYPES,
    SATISFACTION5,
    AnswerError,
    QuestionType,
    parse_answer,
    tabulated_as,
)

#: The questionnaires shipped with the platform, loaded by ``flask load-questionnaires``.
DEFINITIONS_DIR = Path(__file__).parent / "definitions"

__all__ = [
    "BUILTIN_SCALES",
    "DEFINITIONS_DIR",
    "GRID_ROW_TYPE",
    "GRID_TYPE",
    "INTEGER_LIMIT",
    "LANGUAGES",
    "MAX_TEXT_LENGTH",
    "NPS11",
    "QUESTION_TYPES",
    "SATISFACTION5",
    "AnswerError",
    "Choice",
    "Grid",
    "GridRows",
    "Group",
    "Label",
    "Question",
    "QuestionType",
    "Questionnaire",
    "QuestionnaireError",
    "Scale",
    "ScalePoint",
    "Section",
    "ServedUnit",
    "dump",
    "load",
    "load_dir",
    "loads",
    "parse_answer",
    "tabulated_as",
]
