"""end customers: the partner that first entered one (created_by_partner_id)

A partner sees only the customers it entered or registered, and those the vendor's staff entered
as channel-covered (customers.services.customer_visible_to); this records who entered a customer.

Existing customers: the table never said who entered a customer, so the data step infers it, and
leans towards confidentiality where it has to guess. A customer is put down as entered by the
partner of its earliest channel deal when nothing says the vendor entered it:
- it is channel-covered and has no owning rep (a named direct account, or a customer a rep owns,
  is the vendor's own);
- no direct deal at it was created before (or with) its first channel deal (the rep's deal
  brought it in);
- no audit entry records its creation by a vendor user (the customer page, an Excel import).
Every other customer (no channel deal, or a vendor origin) stays NULL: entered by the vendor,
visible to every partner when channel-covered. A customer that in fact came from the vendor's
seed data and was first registered by a partner ends up that partner's: other partners no longer
find it in the type-ahead and enter it afresh, which conflict detection still ties together by
name and credit code. The opposite error (another partner's prospect shown to everyone) is the
leak this revision closes.

Downgrade drops the column (the inference is not kept elsewhere).

Revision ID: c4e1a9d27b6f
Revises: c4e1a7d2b9f0
Create Date: 2026-11-24 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4e1a9d27b6f"
down_revision = "c4e1a7d2b9f0"
branch_labels = None
depends_on = None

# Written out in SQL: a migration does not import the models (they move on, it must not).
FIRST_CHANNEL_DEAL = """
    SELECT d.{column} FROM deal d
    WHERE d.customer_id = end_customer.id AND d.kind = 'channel' AND d.partner_id IS NOT NULL
    ORDER BY d.created_at, d.id
    LIMIT 1
"""
SET_ORIGIN = f"""
UPDATE end_customer
SET created_by_partner_id = ({FIRST_CHANNEL_DEAL.format(column="partner_id")})
WHERE created_by_partner_id IS NULL
  AND coverage = 'channel'
  AND owner_rep_id IS NULL
  AND EXISTS ({FIRST_CHANNEL_DEAL.format(column="id")})
  AND NOT EXISTS (
    SELECT 1 FROM deal direct_deal
    WHERE direct_deal.customer_id = end_customer.id AND direct_deal.kind = 'direct'
      AND direct_deal.created_at <= ({FIRST_CHANNEL_DEAL.format(column="created_at")})
  )
  AND NOT EXISTS (
    SELECT 1 FROM audit_log a JOIN user_account u ON u.id = a.user_id
    WHERE a.entity_type = 'EndCustomer' AND a.entity_id = end_customer.id
      AND a.action = 'create' AND u.role <> 'partner'
  )
"""


def upgrade():
    with op.batch_alter_table("end_customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_partner_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_end_customer_created_by_partner_id"),
            ["created_by_partner_id"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_end_customer_created_by_partner_id_partner"),
            "partner",
            ["created_by_partner_id"],
            ["id"],
        )
    op.execute(SET_ORIGIN)


def downgrade():
    with op.batch_alter_table("end_customer", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_end_customer_created_by_partner_id_partner"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_end_customer_created_by_partner_id"))
        batch_op.drop_column("created_by_partner_id")
