"""Messages of the pure packages are shown in the user's language, parts and all."""

from __future__ import annotations

import pytest

from questionnaires import QuestionnaireError, loads
from survey.i18n import translated


def refusal(text: str) -> QuestionnaireError:
    with pytest.raises(QuestionnaireError) as caught:
        loads(text, filename="office.yaml")
    return caught.value


BROKEN = """\
id: office
title: 办公室
sections:
  - code: main
    title: 主要
    questions:
      - code: contact
        type: choice
        text: 联系方式
"""


def test_a_loader_reason_is_translated_with_every_nested_part(app):
    error = refusal(BROKEN)
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert translated(error.message) == "问题 'contact'：choice 题型需要选项"


def test_the_loader_reason_stays_english_for_the_cli(app):
    error = refusal(BROKEN)
    assert (error.line, error.reason) == (7, "question 'contact': a choice question needs choices")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert translated(error.message) == error.reason


def test_the_locales_data_is_read_with_the_app_not_in_the_first_request(app, monkeypatch):
    """Babel's CLDR data (a third of a second for Chinese) is read when the app is made, so
    that a new server's first page does not wait for it (survey.i18n.preload_locale_data)."""
    from babel import localedata

    from survey import create_app

    read = []
    real = localedata.load
    monkeypatch.setattr(
        localedata, "load", lambda name, *a, **k: read.append(name) or real(name, *a, **k)
    )
    monkeypatch.setattr(localedata, "_cache", {})
    create_app(dict(app.config))
    assert {"zh", "en"} <= set(read)


def test_templates_translate_in_the_locale_in_force_each_time(app):
    # survey.i18n keeps the request's translations for the templates' _(): a force_locale()
    # inside the request (a report in another language) and a refresh() after a language
    # switch must each get their own, and the request's language must come back after.
    from flask import render_template_string, session
    from flask_babel import force_locale, refresh

    template = "{{ _('Log out') }}"
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert render_template_string(template) == "退出登录"
        with force_locale("en"):
            assert render_template_string(template) == "Log out"
        assert render_template_string(template) == "退出登录"
        session["lang"] = "en"
        refresh()
        assert render_template_string(template) == "Log out"


def test_current_language_follows_the_locale_in_force_each_time(app):
    # survey.i18n reads the locale Flask-Babel keeps in g instead of asking get_locale(): a
    # force_locale() and a refresh() after a switch must still be seen, as by the templates.
    from flask import render_template_string, session
    from flask_babel import force_locale, refresh

    from survey.i18n import current_language

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert current_language() == "en"
        with force_locale("zh"):
            assert current_language() == "zh"
            assert render_template_string("{{ current_language() }}") == "zh"
        assert current_language() == "en"
        session["lang"] = "zh"
        refresh()
        assert current_language() == "zh"
    with app.app_context():  # no request: the default language, as before
        assert current_language() == app.config["BABEL_DEFAULT_LOCALE"][:2]


def test_the_templates_gettext_escapes_and_formats_as_jinjas_newstyle_gettext(app):
    # The templates' _() is survey.i18n.template_gettext, not jinja's alias: the same rules
    # (the variables escaped where the template autoescapes, always %-formatted).
    from flask import render_template_string

    with app.test_request_context(headers={"Accept-Language": "zh"}):
        escaped = render_template_string("{{ _('Please reply by %(date)s.', date='<b>') }}")
        assert escaped == "请于&lt;b&gt;前填写。"
        raw = render_template_string(
            "{% autoescape false %}{{ _('Please reply by %(date)s.', date='<b>') }}"
            "{% endautoescape %}"
        )
        assert raw == "请于<b>前填写。"
        # Without variables the text is %-formatted all the same: %% is one %.
        assert render_template_string("{{ _('100%% sure') }}") == "100% sure"
        # ngettext stays jinja's own, in the same language.
        assert render_template_string("{{ ngettext('%(num)s comment', '%(num)s comments', 1) }}")
