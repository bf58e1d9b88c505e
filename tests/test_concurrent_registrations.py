"""Two partners registering one customer at the same moment: whichever commits second sees the
first (one customer record, one conflict on the later registration), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from accounts.models import User
from app import db
from clock import vendor_today
from customers.models import EndCustomer
from deals.models import Conflict, Deal
from deals.workflow import DealInput, LineInput, NewCustomerInput, save_registration

ROUNDS = 6
# Each pair names one new customer in two spellings the matcher calls the same.
SPELLINGS = [
    ("成都七中", "成都市七中"),
    ("武汉钢铁有限公司", "武汉钢铁有限责任公司"),
    ("中兴通讯股份有限公司", "中興通訊股份有限公司"),
    ("联想（北京）有限公司", "联想(北京)有限公司"),
    ("南京烽火星空通信发展有限公司", "烽火星空通信发展(南京)有限公司"),
    ("杭州海康威视数字技术股份有限公司", "海康威视数字技术股份有限公司(杭州)"),
]


def _registration(name: str, product_id: int) -> DealInput:
    return DealInput(
        project_name=f"{name} 扩容",
        estimated_value="500000",
        expected_close_date=vendor_today() + timedelta(days=60),
        stage="evaluation",
        funding_source="own_budget",
        new_customer=NewCustomerInput(name=name),
        lines=[LineInput(product_id, 2, "10000.00")],
    )


def _submit_together(app, users: list[int], names: tuple[str, str], product_id: int) -> list:
    barrier = threading.Barrier(len(users))
    errors: list[BaseException] = []

    def run(user_id: int, name: str) -> None:
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                data = _registration(name, product_id)
                barrier.wait(timeout=10)
                save_registration(user, data, submit=True, today=vendor_today())
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(users, names, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_two_submissions_for_one_new_customer_at_the_same_moment_see_each_other(
    app, make_user, make_partner, make_product
):
    manager = make_user("manager")
    product_id = make_product(line="服务器").id
    users = [
        make_user("partner", partner=make_partner(owner=manager)).id,
        make_user("partner", partner=make_partner(owner=manager)).id,
    ]
    db.session.remove()  # the threads write; this session must not hold a snapshot
    for names in SPELLINGS[:ROUNDS]:
        errors = _submit_together(app, users, names, product_id)
        assert errors == []
    customers = db.session.scalar(select(func.count()).select_from(EndCustomer))
    assert customers == ROUNDS  # one record per customer, whatever spelling came first
    deals = db.session.scalars(select(Deal).order_by(Deal.first_submitted_at, Deal.id)).all()
    assert len(deals) == 2 * ROUNDS
    for customer_id in {d.customer_id for d in deals}:
        first, later = [d for d in deals if d.customer_id == customer_id]
        conflicts = db.session.scalars(
            select(Conflict).where(Conflict.deal_id.in_([first.id, later.id]))
        ).all()
        assert [(c.deal_id, c.other_deal_id) for c in conflicts] == [(later.id, first.id)]
