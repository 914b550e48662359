"""产业基金: funds, their managers and focus, and their investments."""

from .funds import (
    GOVERNMENT_KINDS,
    STAGE_YEARS,
    Fund,
    FundKind,
    FundStage,
    FundStatus,
)
from .investments import FundInvestment, InvestmentRound

__all__ = [
    "GOVERNMENT_KINDS",
    "STAGE_YEARS",
    "Fund",
    "FundInvestment",
    "FundKind",
    "FundStage",
    "FundStatus",
    "InvestmentRound",
]
