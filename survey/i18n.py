"""Language choice: an explicit switch remembered in the session, else the browser's choice."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import get_locale, get_translations, gettext
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from questionnaires.messages import Message
from survey.extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # A command (`flask open-round`) turning a refusal into text: no session, no browser.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def current_language() -> str:
    """ "zh" or "en": the language of questionnaire labels on this request."""
    if not has_app_context():
        return str(get_locale() or "zh")[:2]
    return str(_locale(g._get_current_object()) or "zh")[:2]


def _locale(request_g) -> Locale | None:
    """get_locale() of the request whose g is ``request_g``, without going through g's proxy
    four times (a survey page asks a few dozen times: its _() and current_language()):
    Flask-Babel keeps the locale it chose in g (force_locale() sets it there too), so it is
    read there first, and asked of Flask-Babel only before it has chosen."""
    locale = getattr(getattr(request_g, "_flask_babel", None), "babel_locale", None)
    return locale if locale is not None else get_locale()


def remember_language() -> None:
    """`?lang=en` on any page switches the language and keeps it for the session."""
    lang = request.args.get("lang")
    # Set only when it changes: a session set again is signed and sent again.
    if lang in current_app.config["LANGUAGES"] and session.get("lang") != lang:
        session["lang"] = lang


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )
    app.before_request(remember_language)
    # After babel.init_app, which installed its own: these look the translations up once.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # The templates' _() itself, not jinja's alias of the gettext above (see template_gettext).
    app.jinja_env.globals["_"] = template_gettext
    app.jinja_env.globals["current_language"] = current_language
    app.add_template_filter(translated, "translated")
    preload_locale_data(app.config["LANGUAGES"])


_TRANSLATIONS = "survey_translations"


def _translations():
    """The translations of the locale in force, for the templates' ``_()``: looked up once per
    request and locale. Flask-Babel's own looked them up again for every ``_()`` (its domain,
    its context, the locale's name, its cache): about 130 Python calls each, and a survey page
    has a dozen, a fifth of the page's calls (bench/profile_submission.py). Kept beside the
    locale they are for, so that force_locale() (reports, exports) gets its own."""
    if not has_app_context():
        return get_translations()
    request_g = g._get_current_object()
    locale = _locale(request_g)
    kept = request_g.__dict__.get(_TRANSLATIONS)
    if kept is None or kept[0] is not locale:
        kept = (locale, get_translations())
        setattr(request_g, _TRANSLATIONS, kept)
    return kept[1]


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, **variables) -> str:
    """The templates' ``_("...", name=value)``: what jinja's i18n extension does with newstyle
    gettext (the translation as Markup where the template autoescapes, then always ``%``
    formatted, so that the variables are escaped and ``%%`` means ``%``), in one call. Jinja's
    ``_`` is an alias that looks ``gettext`` up in the template's context and calls it through
    the context twice more: three calls through Context.call for each ``_()``, and a survey
    page has a dozen (bench/profile_submission.py). ``{% trans %}`` and ``gettext()`` in a
    template go through jinja's own, as before."""
    rv = _translations().ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


def preload_locale_data(languages) -> None:
    """Read the locales' data (dates and numbers: Babel's CLDR files, a third of a second for
    Chinese) with the app, not in the first request that formats a date: Babel keeps it for
    the process, so a new server's first page does not wait for it."""
    for lang in languages:
        try:
            Locale.parse(lang).date_formats  # noqa: B018 (the read is the point)
        except (ValueError, UnknownLocaleError):  # a misconfigured language: as before
            continue


def translated(message: Message) -> str:
    """A message from a pure package (the questionnaire loader) in the user's language."""
    return message.render(gettext)
