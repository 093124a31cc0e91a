"""drop columns nothing reads: api_keys.last_used_at (never written) and jobs.input_content_type
(the stored object keeps the upload's content type)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("last_used_at")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("input_content_type")


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("input_content_type", sa.String(length=128), nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
