"""The management-review report of a round as a PDF, made on the server with ReportLab.

Contents (ISO 9001:2015): the method of monitoring (9.1.2: who was asked, how, when, the
response rate), the analysis and evaluation (9.1.3: headline figures per category with n and
95% intervals, the items below the threshold, respondent groups with small groups suppressed,
served units, the change since the previous round with its significance, the drivers of
overall satisfaction) and the charts, for the management review (9.3).

The report is a list of sections: functions registered with ``@section(order)`` that take a
``ReportContext`` and return ReportLab flowables (an empty list leaves the section out). The
corrective-action register is such a section, registered by ``survey.corrective.report_section``
through ``registry`` alone, which loads no drawing code.

Fonts: Latin text in DejaVu Sans (shipped with matplotlib), Chinese in the first CJK TrueType
font of ``CJK_FONT_FILES`` found (Debian's fonts-wqy-microhei by default). Without one the
report is written in English and Chinese names from the database are left as they are.

The package: ``styles`` (page, fonts, styles), ``document`` (the context, the section
registry, ``pdf`` and ``build``), ``tables`` (tables and cell formats), and the sections in
``sections`` and ``analysis``, registered on import.
"""

from __future__ import annotations

from typing import Any

from survey.results.report.registry import section

# The report's drawing code loads ReportLab and matplotlib's base: imported when first used
# (a report built or its file named), not by every process that imports the package.
LAZY = ("ReportContext", "build", "file_name", "language", "pdf")


def __getattr__(name: str) -> Any:
    if name not in LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from survey.results.report import analysis, document, sections  # noqa: F401

    return getattr(document, name)


__all__ = ["ReportContext", "build", "file_name", "language", "pdf", "section"]
