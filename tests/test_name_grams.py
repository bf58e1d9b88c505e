"""The customer-name gram index is kept with every change of a customer's name, equal to a
rebuild from the names, and finds short names and typos of a customer."""

from __future__ import annotations

import random

from sqlalchemy import select

from app import db
from customers.grams import gram_candidates, rebuild_name_grams
from customers.models import CustomerNameGram, EndCustomer

WORDS = ["华为", "中兴", "海康", "星河", "腾达", "联想", "浪潮", "曙光", "新华", "长城"]
TRADES = ["技术", "数据", "通信", "电子", "软件", "科技"]


def _stored() -> set[tuple[str, int]]:
    return set(db.session.execute(select(CustomerNameGram.gram, CustomerNameGram.customer_id)))


def test_stored_grams_equal_a_rebuild_after_random_operations(app, make_customer):
    rng = random.Random(16)
    customers = [
        make_customer(name=f"{rng.choice(WORDS)}{rng.choice(TRADES)}{n}有限公司") for n in range(30)
    ]
    for step in range(120):
        action = rng.random()
        if action < 0.4:
            customers.append(
                make_customer(name=f"{rng.choice(WORDS)}{rng.choice(TRADES)}{step}股份有限公司")
            )
        elif action < 0.8 and customers:
            customer = rng.choice(customers)
            customer.set_name(f"{rng.choice(WORDS)}{rng.choice(TRADES)}{step}集团有限公司")
            db.session.commit()
        elif customers:
            customer = customers.pop(rng.randrange(len(customers)))
            db.session.delete(customer)
            db.session.commit()
    stored = _stored()
    rebuild_name_grams()
    db.session.commit()
    assert stored == _stored()
    assert stored  # the index holds something to compare


def test_a_short_name_and_a_typo_find_their_customer(app, make_customer):
    hikvision = make_customer(name="杭州海康威视数字技术股份有限公司")
    for n in range(20):
        make_customer(name=f"杭州数字技术{n}号有限公司")
    assert hikvision.id in [c.id for c in gram_candidates("海康威视")]
    tencent = make_customer(name="深圳市腾讯计算机系统有限公司")
    assert tencent.id in [c.id for c in gram_candidates("腾迅计算机系统")]


def test_refresh_grams_command_rebuilds_the_index(app, runner, make_customer):
    make_customer(name="南京烽火星空通信发展有限公司")
    db.session.execute(CustomerNameGram.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["customers", "refresh-grams"])
    assert result.exit_code == 0, result.output
    assert "name gram(s) indexed" in result.output
    assert db.session.scalar(select(EndCustomer.id)) in {cid for _, cid in _stored()}
