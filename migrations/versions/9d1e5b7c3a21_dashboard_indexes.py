"""dashboard indexes: deals by decision time, open pipeline covering index

Revision ID: 9d1e5b7c3a21
Revises: 033af25eaecc
Create Date: 2026-11-23 14:00:00

"""

from alembic import op

revision = "9d1e5b7c3a21"
down_revision = "033af25eaecc"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.create_index("ix_deal_decided_at", ["decided_at"], unique=False)
        batch_op.create_index(
            "ix_deal_pipeline",
            ["kind", "status", "partner_id", "stage", "estimated_value", "protection_expires_at"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_pipeline")
        batch_op.drop_index("ix_deal_decided_at")
