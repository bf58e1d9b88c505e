"""stock order day totals: per partner and day, filled from the existing order lines

Revision ID: 40674e3f76f2
Revises: 06d8b64be965
Create Date: 2026-11-23 14:10:56.062275

"""

import sqlalchemy as sa
from alembic import op

revision = "40674e3f76f2"
down_revision = "06d8b64be965"
branch_labels = None
depends_on = None

# partners.order_totals.totals_from_lines, written out: a migration does not import the models.
FILL = """
INSERT INTO stock_order_total
    (partner_id, order_date, gap_days, orders, lines, quantity, amount_cents)
SELECT partner_id, order_date, {gap}, orders, lines, quantity, amount_cents
FROM (
    SELECT o.partner_id AS partner_id, o.order_date AS order_date,
           count(DISTINCT o.id) AS orders, count(l.id) AS lines,
           sum(l.quantity) AS quantity,
           sum(l.quantity * CAST(round(l.unit_price * 100) AS BIGINT)) AS amount_cents
    FROM stock_order AS o JOIN stock_order_line AS l ON l.order_id = o.id
    GROUP BY o.partner_id, o.order_date
) AS day_total
"""
PREVIOUS = "lag(order_date) OVER (PARTITION BY partner_id ORDER BY order_date)"
GAP = {
    "sqlite": f"CAST(julianday(order_date) - julianday({PREVIOUS}) AS INTEGER)",
    "postgresql": f"order_date - {PREVIOUS}",
}


def upgrade():
    op.create_table(
        "stock_order_total",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("gap_days", sa.Integer(), nullable=True),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_stock_order_total_partner_id_partner")
        ),
        sa.PrimaryKeyConstraint("partner_id", "order_date", name=op.f("pk_stock_order_total")),
    )
    with op.batch_alter_table("stock_order_total", schema=None) as batch_op:
        batch_op.create_index("ix_stock_order_total_date", ["order_date"], unique=False)
        batch_op.create_index(
            "ix_stock_order_total_gaps",
            ["partner_id", "gap_days", "order_date", "amount_cents"],
            unique=False,
        )
    op.execute(FILL.format(gap=GAP[op.get_bind().dialect.name]))


def downgrade():
    with op.batch_alter_table("stock_order_total", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_order_total_gaps")
        batch_op.drop_index("ix_stock_order_total_date")
    op.drop_table("stock_order_total")
