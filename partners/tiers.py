"""Tier review: compare each partner's commitment and attainment with the tier policies."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from i18n import money, percent
from partners.models import TIER_ORDER, TIERS

PERIODS_PER_YEAR = {"Q": 4, "H": 2, "": 1}


def annualised(amount: Decimal, period: str) -> Decimal:
    """A quarter's commitment counts four times towards the yearly tier minimum, and so on."""
    part = period[5:6] if len(period) > 4 else ""
    return Decimal(amount) * PERIODS_PER_YEAR[part]


@dataclass(frozen=True)
class TierProposal:
    current: str
    proposed: str
    reason: str  # lazy: in the reader's language when shown, in English when audited

    @property
    def current_label(self) -> str:
        return TIERS.get(self.current, self.current)

    @property
    def proposed_label(self) -> str:
        return TIERS.get(self.proposed, self.proposed)

    @property
    def change(self) -> str:
        if self.proposed == self.current:
            return "none"
        better = TIER_ORDER.index(self.proposed) < TIER_ORDER.index(self.current)
        return "promotion" if better else "demotion"


def propose_tier(
    current: str,
    annual_commitment: Decimal | None,
    pro_rata: Decimal | None,
    minimums: dict[str, Decimal],
    min_pro_rata: Decimal,
) -> TierProposal:
    """The tier a partner's commitment earns, one level lower when it is not honouring it.

    ``minimums`` maps tier to its yearly minimum commitment; the best tier whose minimum the
    annualised commitment reaches is earned. Without a commitment only "registered" is earned.
    """
    if annual_commitment is None:
        earned = TIER_ORDER[-1]
        reason = _l("no active stock commitment")
    else:
        earned = next(
            (t for t in TIER_ORDER if annual_commitment >= minimums.get(t, Decimal(0))),
            TIER_ORDER[-1],
        )
        reason = _l(
            "commitment %(amount)s/year meets the %(tier)s minimum",
            amount=LazyString(money, annual_commitment),
            tier=TIERS[earned],
        )
    if pro_rata is not None and pro_rata < min_pro_rata:
        # Not honouring the commitment: one level below the current tier, never above earned.
        one_below = TIER_ORDER[min(TIER_ORDER.index(current) + 1, len(TIER_ORDER) - 1)]
        earned = max(earned, one_below, key=TIER_ORDER.index)
        reason = _l(
            "attainment %(attainment)s of pro-rata is below %(threshold)s",
            attainment=LazyString(percent, pro_rata),
            threshold=LazyString(percent, min_pro_rata),
        )
    if earned == current:
        reason = _l("stays: %(reason)s", reason=reason)
    return TierProposal(current=current, proposed=earned, reason=reason)
