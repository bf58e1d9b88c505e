"""The index of customer-name grams: how short names, shortened names and typos find their
customer through an index, never a scan.

``customer_name_gram`` holds customers.matching.suggestion_grams of every customer's name (its
character bigrams, skip-bigrams and pinyin bigrams), kept by a session hook in the same
transaction as the name. A lookup counts each gram's frequency (bounded), takes the rarest until a
budget of index entries, and ranks the customers by how many of them they hold; the matcher then
judges each candidate.
"""

from __future__ import annotations

from sqlalchemy import (
    String,
    case,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from app import db
from customers.matching import suggestion_grams
from customers.models import CustomerNameGram, EndCustomer

#: Index entries read for one lookup: the rarest grams are taken until this many are reached.
GRAM_POSTINGS_BUDGET = 4000
#: A gram more frequent than this says little (科技, 电子): counted only up to it.
GRAM_FREQUENCY_CAP = 5000
#: Candidates judged by the matcher, those sharing most grams first.
MAX_CANDIDATES = 120


@event.listens_for(Session, "after_flush")
def keep_name_grams(session: Session, flush_context) -> None:
    """After each flush: the grams of every customer whose name was added or changed."""
    changed = []
    for obj in session.new:
        if isinstance(obj, EndCustomer):
            changed.append(obj)
    for obj in session.dirty:
        if isinstance(obj, EndCustomer) and inspect(obj).attrs.name.history.has_changes():
            changed.append(obj)
    deleted = [obj.id for obj in session.deleted if isinstance(obj, EndCustomer)]
    if not changed and not deleted:
        return
    connection = session.connection()
    table = CustomerNameGram.__table__
    ids = [c.id for c in changed] + deleted
    connection.execute(delete(table).where(table.c.customer_id.in_(ids)))
    rows = [{"gram": g, "customer_id": c.id} for c in changed for g in suggestion_grams(c.name)]
    if rows:
        connection.execute(insert(table), rows)


def rebuild_name_grams(batch: int = 5000) -> int:
    """Recompute the whole gram index from the customers' names; returns the rows written.
    The caller commits."""
    table = CustomerNameGram.__table__
    db.session.execute(delete(table))
    written = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            select(EndCustomer.id, EndCustomer.name)
            .where(EndCustomer.id > last_id)
            .order_by(EndCustomer.id)
            .limit(batch)
        ).all()
        if not rows:
            return written
        values = [
            {"gram": g, "customer_id": cid} for cid, name in rows for g in suggestion_grams(name)
        ]
        if values:
            db.session.execute(insert(table), values)
        written += len(values)
        last_id = rows[-1][0]


def _gram_frequencies(grams: list[str]) -> dict[str, int]:
    """How many customers hold each gram, counted up to GRAM_FREQUENCY_CAP, in one statement."""
    table = CustomerNameGram.__table__
    counts = [
        select(
            literal(gram, String()).label("gram"),
            select(func.count())
            .select_from(
                select(table.c.customer_id)
                .where(table.c.gram == gram)
                .limit(GRAM_FREQUENCY_CAP)
                .subquery()
            )
            .scalar_subquery()
            .label("n"),
        )
        for gram in grams
    ]
    return {gram: n for gram, n in db.session.execute(union_all(*counts))}


def gram_candidates(
    name: str, exclude_id: int | None = None, region: str = ""
) -> list[EndCustomer]:
    """Customers sharing grams with ``name``, those sharing most first (at most MAX_CANDIDATES).

    Rare grams are the telling ones: each gram's frequency is counted (bounded), the rarest are
    taken until GRAM_POSTINGS_BUDGET index entries, and the customers holding them are ranked by
    how many of the taken grams they hold, then those in ``region`` (the region the registration
    gives) first: a short name shared by customers in many places is most likely the local one.
    """
    grams = sorted(suggestion_grams(name))
    if not grams:
        return []
    table = CustomerNameGram.__table__
    frequency = _gram_frequencies(grams)
    chosen, postings = [], 0
    for gram in sorted(grams, key=lambda g: (frequency[g], g)):
        if frequency[gram] == 0:
            continue
        if chosen and postings + frequency[gram] > GRAM_POSTINGS_BUDGET:
            break
        chosen.append(gram)
        postings += frequency[gram]
    if not chosen:
        return []
    hits = func.count().label("hits")
    order = [hits.desc()]
    stmt = select(table.c.customer_id, hits).where(table.c.gram.in_(chosen))
    if region:
        local = func.max(case((EndCustomer.region == region, 1), else_=0))
        stmt = stmt.join(EndCustomer, EndCustomer.id == table.c.customer_id)
        order.append(local.desc())
    ranked = (
        stmt.group_by(table.c.customer_id)
        .order_by(*order, table.c.customer_id)
        .limit(MAX_CANDIDATES + 1)
    )
    ids = [row[0] for row in db.session.execute(ranked) if row[0] != exclude_id][:MAX_CANDIDATES]
    if not ids:
        return []
    by_id = {
        c.id: c for c in db.session.scalars(select(EndCustomer).where(EndCustomer.id.in_(ids)))
    }
    return [by_id[i] for i in ids if i in by_id]
