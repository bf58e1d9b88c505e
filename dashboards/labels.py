"""Labels of the codes the dashboards group by: the packages' own (lazy) label dictionaries,
so a status or tier reads the same on a dashboard as on the list it links to."""

from __future__ import annotations

from deals.models import CONFLICT_KINDS as CONFLICT_LABELS
from deals.models import DEAL_STATUSES as STATUS_LABELS
from deals.models import STAGES as STAGE_LABELS
from partners.models import TIERS as TIER_LABELS

__all__ = ["CONFLICT_LABELS", "STAGE_LABELS", "STATUS_LABELS", "TIER_LABELS"]
