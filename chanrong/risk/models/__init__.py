"""Risk identification and post-loan monitoring (风险识别与贷后管理).

- `loans`: the loan book. Every loan disbursed through the platform opens a
  `LoanAccount` (copied from the demand's disbursement); a bank may also
  report an enterprise's off-platform loans. The lending bank reports the
  schedule, repayments, days overdue, the five-category classification
  (五级分类), renewal without repayment (无还本续贷) and early recall; each
  report is kept as a `LoanEvent`, so the history a scorecard learns from and
  a warning rule looks at is never overwritten.

Visibility (one `visible_to(user)` for the family): an enterprise sees its own
loans, an institution the loans it made, government its region's subtree.
- `warnings`: early-warning rules as data and the alerts they raise.
- `consultation`: 抽贷断贷会商, the agency's consultation before loans are cut.
- `group_sums`: the split by policy group kept as of a day (群体统计, 数据截至).
- `book_kept`: 风险监测's figures kept per viewer scope (数据截至).
"""

# ruff: noqa: F401
from .book_kept import BookFigures, BookSnapshot
from .consultation import (
    OPEN_STATES as CONSULTATION_OPEN_STATES,
)
from .consultation import (
    Consultation,
    ConsultationFollowUp,
    ConsultationKind,
    ConsultationParticipant,
    ConsultationQuerySet,
    ConsultationState,
    DecisionKind,
)
from .group_sums import GroupSplitSnapshot, GroupSplitSum
from .loans import (
    CLASS_RANK,
    MONEY,
    NON_PERFORMING,
    RATE,
    SECURED,
    Classification,
    Collateral,
    LoanAccount,
    LoanAccountQuerySet,
    LoanEvent,
    LoanEventKind,
    LoanOrigin,
    LoanStatus,
    Repayment,
    ScheduleItem,
)
from .pledges import GREEN_RIGHT_CHOICES, GreenPledge, GreenPledgeQuerySet
from .scoring import (
    EnterpriseScore,
    EnterpriseScoreQuerySet,
    ModelVersion,
    ModelVersionQuerySet,
)
from .scoring import VersionStatus as ModelStatus
from .warnings import (
    SEVERITY_RANK,
    Alert,
    AlertQuerySet,
    AlertState,
    RuleKind,
    Severity,
    WarningRule,
    WarningRuleQuerySet,
)
