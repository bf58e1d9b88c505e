"""conflicts a channel can trust: first submission of a deal (first registrant first), the
possible-customer suggestions a manager reviews, the gram index of customer names

Revision ID: c4e1a7d2b9f0
Revises: 78ea53d5a4f0
Create Date: 2026-12-07 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4e1a7d2b9f0"
down_revision = "78ea53d5a4f0"
branch_labels = None
depends_on = None


def _fill_grams():
    # The grams are the matcher's (a pure function of the name); `flask customers
    # refresh-grams` recomputes them whenever the matcher's normalisation changes.
    from customers.matching import suggestion_grams

    bind = op.get_bind()
    gram = sa.table("customer_name_gram", sa.column("gram"), sa.column("customer_id"))
    last_id = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, name FROM end_customer WHERE id > :last ORDER BY id LIMIT 5000"),
            {"last": last_id},
        ).all()
        if not rows:
            return
        values = [{"gram": g, "customer_id": cid} for cid, name in rows for g in suggestion_grams(name)]
        if values:
            bind.execute(gram.insert(), values)
        last_id = rows[-1][0]


def upgrade():
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_submitted_at", sa.DateTime(timezone=True), nullable=True))
    # Deals submitted before: their (last) submission is the best record of when they came in.
    op.execute("UPDATE deal SET first_submitted_at = submitted_at WHERE submitted_at IS NOT NULL")
    op.create_table(
        "customer_name_gram",
        sa.Column("gram", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["end_customer.id"],
            name=op.f("fk_customer_name_gram_customer_id_end_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("gram", "customer_id", name=op.f("pk_customer_name_gram")),
    )
    with op.batch_alter_table("customer_name_gram", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_name_gram_customer_id"), ["customer_id"], unique=False
        )
    op.create_table(
        "deal_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("conflict_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conflict_id"], ["conflict.id"], name=op.f("fk_deal_suggestion_conflict_id_conflict")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["end_customer.id"],
            name=op.f("fk_deal_suggestion_customer_id_end_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deal.id"], name=op.f("fk_deal_suggestion_deal_id_deal")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_deal_suggestion_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_suggestion")),
        sa.UniqueConstraint("deal_id", "customer_id", name="uq_deal_suggestion_deal_customer"),
    )
    with op.batch_alter_table("deal_suggestion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_suggestion_customer_id"), ["customer_id"])
        batch_op.create_index(batch_op.f("ix_deal_suggestion_deal_id"), ["deal_id"])
        batch_op.create_index(batch_op.f("ix_deal_suggestion_status"), ["status"])
    _fill_grams()


def downgrade():
    op.drop_table("deal_suggestion")
    op.drop_table("customer_name_gram")
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_column("first_submitted_at")
