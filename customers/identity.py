"""Which known customer a registration names, and the lock that makes two submissions for one
customer wait for each other.

One rule for the web form, the API and the imports: a credit code names its customer; without
one, the first customer the matcher calls ``same`` (customers.matching) is reused, so a registration
never creates a second record of a customer the system already knows.
"""

from __future__ import annotations

from sqlalchemy import select, text

from app import db
from customers.grams import gram_candidates
from customers.matching import compare_customer_names, name_search_key
from customers.models import EndCustomer

#: Most records read for one name key (a key shared by more is a list, not a customer).
SAME_KEY_CANDIDATES = 250


def lock_customer_identity(name: str, uscc: str | None = None) -> None:
    """Serialise, until the transaction ends, every action on a customer with this name key or
    credit code: whoever comes second reads what the first one wrote.

    PostgreSQL: transaction-scoped advisory locks on the name key and on the code, taken in a
    fixed order (no deadlock between two of them). SQLite: the database's write lock, taken at
    once (``BEGIN IMMEDIATE``) when the transaction has not written yet; once it has written,
    it holds that lock already. Taking the same lock twice in a transaction is harmless.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        keys = set()
        key = name_search_key(name or "")
        if key:
            keys.add(f"customer-name:{key}")
        if uscc:
            keys.add(f"customer-uscc:{uscc.strip().upper()}")
        for lock_key in sorted(keys):
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": lock_key})
    elif connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        if not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def find_same_customer(
    name: str, uscc: str | None = None, *, for_partner: bool = False
) -> EndCustomer | None:
    """The known customer that ``name`` (and ``uscc``) names, or None.

    A credit code decides when both sides have one; otherwise candidates share the name key
    (an index lookup) and the first the matcher calls ``same`` wins, oldest record first; then
    the candidates of the name-gram index, best first.

    ``for_partner``: a partner user names the customer. The vendor's named direct accounts are
    not reused by name (the partner's registration gets a record of its own, which the conflict
    check ties to the account, so the partner never sees the vendor's record); a credit code
    still names its one organisation.
    """
    uscc = (uscc or "").strip().upper() or None
    if uscc:
        found = db.session.scalar(select(EndCustomer).where(EndCustomer.uscc == uscc))
        if found is not None:
            return found
    key = name_search_key(name or "")
    if not key:
        return None
    stmt = select(EndCustomer).where(EndCustomer.name_key == key)
    if for_partner:
        stmt = stmt.where(EndCustomer.coverage != "direct")
    candidates = db.session.scalars(stmt.order_by(EndCustomer.id).limit(SAME_KEY_CANDIDATES))
    for candidate in candidates:
        if compare_customer_names(name, candidate.name, uscc, candidate.uscc).same:
            return candidate
    # Spellings whose keys differ although the matcher calls them the same (中山慕舍电子 and
    # 慕舍电子(中山): the ambiguous city is read as a region only against the other name).
    for candidate in gram_candidates(name):
        if for_partner and candidate.coverage == "direct":
            continue
        if compare_customer_names(name, candidate.name, uscc, candidate.uscc).same:
            return candidate
    return None
