"""The registry of the report's sections, apart from the report's drawing code.

A section registered from elsewhere (the corrective-action register, at the app's start)
imports this module only: the report's own modules load ReportLab and matplotlib's base
(about 40 MB in every process), which only the process that builds a report needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from survey.models import Round
    from survey.results.report.document import ReportContext

Section = Callable[["ReportContext"], list[Any]]
Stamp = Callable[["Round"], str]
SECTIONS: list[tuple[float, Section]] = []
# What a section shows beyond the round's answers (e.g. the state of its corrective actions)
# goes into the cached file's name, so that a change to it makes a new report.
STAMPS: list[Stamp] = []


def section(order: float, stamp: Stamp | None = None) -> Callable[[Section], Section]:
    """Register a report section; sections run in ``order`` (10 title, 20 method, 30
    analysis, 40 trend, 50 drivers, 60 the corrective-action register). ``stamp(round)``,
    for a section that shows data other than the round's answers, returns a short text that
    changes whenever that data does."""

    def register(function: Section) -> Section:
        SECTIONS.append((order, function))
        SECTIONS.sort(key=lambda pair: pair[0])
        if stamp is not None:
            STAMPS.append(stamp)
        return function

    return register
