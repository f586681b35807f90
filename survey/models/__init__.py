"""The database schema: typed SQLAlchemy 2.0 models of the architecture's domain model, one
module per concept (people, questionnaires, rounds, actions, audit). Importing the package
maps every model and registers the append-only listeners; import the names from here."""

from survey.models.actions import (
    ACTION_STATUSES,
    ACTIVE_STATUSES,
    LEAD_ROLES,
    STEP_KINDS,
    ActionAttachment,
    ActionEvent,
    ActionStep,
    ActionSummary,
    CorrectiveAction,
    ItemNote,
)
from survey.models.audit import AuditEvent
from survey.models.base import new_token, utcnow
from survey.models.feedback import (
    CASE_OUTCOMES,
    CASE_STATUSES,
    POINT_KINDS,
    POOR_AT_MOST,
    REASONS,
    SCORES,
    CaseEvent,
    FeedbackCase,
    PublicRating,
    ServicePoint,
)
from survey.models.files import EXPORT_STATUSES, ResultExport, StoredFile
from survey.models.mail import MAIL_KINDS, MAIL_STATUSES, MailMessage
from survey.models.offices import Membership, Office, OfficeOwned
from survey.models.people import ROLE_LABELS, ROLES, RespondentGroup, Unit, User
from survey.models.questionnaires import (
    Question,
    Questionnaire,
    QuestionnaireTemplate,
    QuestionnaireVersion,
    Section,
)
from survey.models.rounds import (
    RESPONSE_SOURCES,
    Answer,
    Invitation,
    RawLine,
    Response,
    Round,
    accepts,
)
from survey.models.scales import LibraryScale
from survey.models.tallies import TallySnapshot
from survey.models.tokens import ApiToken
from survey.models.webhooks import DELIVERY_STATUSES, WebhookDelivery, WebhookEndpoint

__all__ = [
    "LEAD_ROLES",
    "CASE_OUTCOMES",
    "CASE_STATUSES",
    "POINT_KINDS",
    "POOR_AT_MOST",
    "REASONS",
    "SCORES",
    "CaseEvent",
    "FeedbackCase",
    "PublicRating",
    "ServicePoint",
    "ACTIVE_STATUSES",
    "TallySnapshot",
    "ACTION_STATUSES",
    "DELIVERY_STATUSES",
    "MAIL_KINDS",
    "MAIL_STATUSES",
    "EXPORT_STATUSES",
    "RESPONSE_SOURCES",
    "ROLE_LABELS",
    "ROLES",
    "STEP_KINDS",
    "ActionAttachment",
    "ApiToken",
    "ActionEvent",
    "ActionStep",
    "ActionSummary",
    "Answer",
    "AuditEvent",
    "CorrectiveAction",
    "Invitation",
    "ItemNote",
    "LibraryScale",
    "MailMessage",
    "Membership",
    "Office",
    "OfficeOwned",
    "Question",
    "RawLine",
    "Questionnaire",
    "QuestionnaireTemplate",
    "QuestionnaireVersion",
    "RespondentGroup",
    "ResultExport",
    "Response",
    "Round",
    "Section",
    "StoredFile",
    "Unit",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "accepts",
    "new_token",
    "utcnow",
]
