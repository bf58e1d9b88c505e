"""The index of customer-name grams: how short names, shortened names and typos find their
customer through an index, never a scan.

``customer_name_gram`` holds customers.matching.suggestion_grams of every customer's name (its
character bigrams, skip-bigrams and pinyin bigrams), kept by a session hook in the same
transaction as the name. A lookup counts each gram's frequency (bounded), takes the rarest until a
budget of index entries, and ranks the customers by how many of them they hold; the matcher then
judges each candidate.
"""

from __future__ import annotations

import time

from sqlalchemy import delete, event, func, insert, inspect, select, union_all
from sqlalchemy.orm import Session

from app import db
from customers.matching import suggestion_grams
from customers.models import CustomerNameGram, EndCustomer

#: Index entries read for one lookup: the rarest grams are taken until this many are reached.
GRAM_POSTINGS_BUDGET = 2000
#: A chosen gram contributes at most this many postings (a common gram taken as a last resort).
GRAM_FREQUENCY_CAP = GRAM_POSTINGS_BUDGET
#: Candidates judged by the matcher, those sharing most grams first.
MAX_CANDIDATES = 60
#: Customers ranked by shared grams before those of the registration's region are put first.
RANKED_CANDIDATES = 200


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


#: Grams held by at least this many customers are remembered by each process for a while: their
#: counts only decide which grams a lookup reads first, so a stale count costs a little speed,
#: never a match (rare grams, the telling ones, are always counted afresh).
COMMON_GRAM = 50
COMMON_GRAM_SECONDS = 600
_common_grams: dict[str, tuple[int, float]] = {}


def _gram_frequencies(grams: list[str]) -> dict[str, int]:
    """How many customers hold each gram: common grams from the process's memo, the others
    counted exactly in one grouped statement read from the index (rare grams cost little; a
    common gram is counted once a process and memo period)."""
    now = time.monotonic()
    found: dict[str, int] = {}
    todo = []
    for gram in grams:
        memo = _common_grams.get(gram)
        if memo is not None and now - memo[1] < COMMON_GRAM_SECONDS:
            found[gram] = memo[0]
        else:
            todo.append(gram)
    if todo:
        table = CustomerNameGram.__table__
        counted = dict(
            db.session.execute(
                select(table.c.gram, func.count())
                .where(table.c.gram.in_(todo))
                .group_by(table.c.gram)
            ).all()
        )
        for gram in todo:
            found[gram] = n = counted.get(gram, 0)
            if n >= COMMON_GRAM:
                _common_grams[gram] = (n, now)
        if len(_common_grams) > 100_000:
            _common_grams.clear()
    return found


def gram_candidates(
    name: str, exclude_id: int | None = None, region: str = ""
) -> list[EndCustomer]:
    """Customers sharing grams with ``name``, those sharing most first (at most MAX_CANDIDATES).

    Rare grams are the telling ones: each gram's frequency is counted, the rarest are
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
    # Each chosen gram contributes at most GRAM_FREQUENCY_CAP postings (a common gram taken as
    # a last resort cannot make the lookup read thousands of entries).
    limited = [
        select(table.c.customer_id).where(table.c.gram == gram).limit(GRAM_FREQUENCY_CAP).subquery()
        for gram in chosen
    ]
    postings_of = union_all(*(select(sub.c.customer_id) for sub in limited)).subquery()
    hits = func.count().label("hits")
    ranked = db.session.execute(
        select(postings_of.c.customer_id, hits)
        .group_by(postings_of.c.customer_id)
        .order_by(hits.desc(), postings_of.c.customer_id)
        .limit(RANKED_CANDIDATES)
    ).all()
    shared = {cid: n for cid, n in ranked if cid != exclude_id}
    local: set[int] = set()
    if region and shared:
        local = set(
            db.session.scalars(
                select(EndCustomer.id).where(
                    EndCustomer.id.in_(list(shared)), EndCustomer.region == region
                )
            )
        )
    ids = sorted(shared, key=lambda cid: (-shared[cid], cid not in local, cid))[:MAX_CANDIDATES]
    if not ids:
        return []
    by_id = {
        c.id: c for c in db.session.scalars(select(EndCustomer).where(EndCustomer.id.in_(ids)))
    }
    return [by_id[i] for i in ids if i in by_id]
