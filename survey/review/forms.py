from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField


class CommentFilterForm(FlaskForm):
    """The filters of the comments page, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    question = SelectField(_l("Item"), default="")
    group = SelectField(_l("Respondent group"), default="")
    rating = SelectField(_l("Rating"), default="")

    def filters(self) -> dict:
        """The chosen filters for ``survey.results.comments_query``; unknown values are
        refused by the form's validation and so never reach it."""
        return {
            "question": self.question.data or None,
            "group": self.group.data or None,
            "rating": int(self.rating.data) if self.rating.data else None,
        }


def comment_filter_form(formdata, labels, hidden_groups: set[str], points: list[int]):
    """The filter form bound to the query string, offering the round's items, the groups
    large enough to be named and the rating points."""
    form = CommentFilterForm(formdata=formdata)
    form.question.choices = [("", _l("All items"))] + list(labels.questions.items())
    form.group.choices = [("", _l("All groups"))] + [
        (code, label) for code, label in labels.groups.items() if code not in hidden_groups
    ]
    form.rating.choices = [("", _l("Any rating"))] + [(str(p), str(p)) for p in points]
    return form
