"""Indexes for big rounds: responses by round and id, the answers that carry text

Revision ID: 0019_answer_indexes
Revises: 0018_tally_snapshots
Create Date: 2026-12-06 05:45:00

ix_response_round_id_id replaces ix_response_round_id: the count and highest id of a round's
responses come from it alone (on PostgreSQL max(id) of a round otherwise walks the primary key
backwards, half a second at a million responses), and so do the responses after a given id.
ix_answer_written holds only the answers with a text or a comment (about one in twelve), which
the answer frame and the comments read.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_answer_indexes"
down_revision = "0018_tally_snapshots"
branch_labels = None
depends_on = None

WRITTEN = "text IS NOT NULL OR comment IS NOT NULL"


def upgrade():
    op.create_index("ix_response_round_id_id", "response", ["round_id", "id"], unique=False)
    op.drop_index("ix_response_round_id", table_name="response")
    op.create_index(
        "ix_answer_written",
        "answer",
        ["response_id"],
        unique=False,
        postgresql_where=sa.text(WRITTEN),
        sqlite_where=sa.text(WRITTEN),
    )


def downgrade():
    op.drop_index("ix_answer_written", table_name="answer")
    op.create_index("ix_response_round_id", "response", ["round_id"], unique=False)
    op.drop_index("ix_response_round_id_id", table_name="response")
