"""dashboards: stored open pipeline per partner and stage (filled from the deals), at-risk
memos, covering indexes for deals decided in a period and for granted special prices

Revision ID: 78ea53d5a4f0
Revises: 40674e3f76f2
Create Date: 2026-11-23 19:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "78ea53d5a4f0"
down_revision = "40674e3f76f2"
branch_labels = None
depends_on = None

# deals.pipeline.pipeline_from_deals, written out: a migration does not import the models.
FILL_PIPELINE = """
INSERT INTO partner_pipeline (partner_id, stage, deals, value_cents)
SELECT partner_id, stage, count(*), sum(CAST(round(estimated_value * 100) AS BIGINT))
FROM deal
WHERE kind = 'channel' AND status IN ('submitted', 'more_info_requested', 'approved')
  AND partner_id IS NOT NULL
GROUP BY partner_id, stage
"""
GRANTED = "special_status = 'approved'"


def upgrade():
    op.create_table(
        "partner_pipeline",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=30), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_partner_pipeline_partner_id_partner")
        ),
        sa.PrimaryKeyConstraint("partner_id", "stage", name=op.f("pk_partner_pipeline")),
    )
    op.create_table(
        "partner_order_history",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("last_90_days_cents", sa.BigInteger(), nullable=True),
        sa.Column("last_12_months_cents", sa.BigInteger(), nullable=True),
        sa.Column("last_order", sa.Date(), nullable=True),
        sa.Column("usual_interval_halves", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_partner_order_history_partner_id_partner"),
        ),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_partner_order_history")),
    )
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_decided_at")
        batch_op.create_index(
            "ix_deal_decided",
            ["decided_at", "kind", "status", "partner_id", "submitted_at", "sla_due_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_deal_protection_passed",
            ["kind", "status", "protection_expires_at", "partner_id", "stage", "estimated_value"],
            unique=False,
        )
    op.create_index(
        "ix_deal_line_granted",
        "deal_line",
        ["deal_id", "product_id", "quantity", "approved_unit_price", "requested_unit_price"],
        unique=False,
        sqlite_where=sa.text(GRANTED),
        postgresql_where=sa.text(GRANTED),
    )
    op.execute(FILL_PIPELINE)


def downgrade():
    op.drop_index("ix_deal_line_granted", table_name="deal_line")
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_protection_passed")
        batch_op.drop_index("ix_deal_decided")
        batch_op.create_index("ix_deal_decided_at", ["decided_at"], unique=False)
    op.drop_table("partner_order_history")
    op.drop_table("partner_pipeline")
