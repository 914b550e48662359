"""Every rule of the pilot-city programme (产融合作试点城市申报系统).

Views, API handlers, commands and the demo call these functions; they hold
no rules of their own. Each function takes the acting user explicitly,
raises chanrong.core.errors.* (ValidationFailed 422, NotAllowed 403,
Conflict 409, NotFound 404) and changes nothing when it raises. Every state
change is audited in its own transaction, through the state machines in
workflows.py where there is a state to move.

The rules come from the five ministries' notice (工信部联财函〔2020〕161号):

- 申报对象: county-level cities and districts and above (县级及以上城市（区）).
- 申报材料: 申报文件 (PDF, issued by the city's government), 实施方案 following
  the 编制提纲 with an implementation period of at most three years,
  定量指标统计表 (a target per indicator and year), and 相关材料.
- Provincial review: the province's 工信 department with 财政, 人行, 金融监管
  and 证监 screens its applications and, before the provincial deadline,
  confirms at most two recommendations (at most one for a 计划单列市 and for
  新疆生产建设兵团) with a joint report.
- Ministry review by the five ministries; the list of pilots is published.
- A first-batch pilot whose period has ended updates its plan and submits it
  directly; the ministry re-checks and continues it.

The rules live in one module per subdomain; this package keeps every public
name importable as `chanrong.pilots.services.<name>` so callers need not know
which module holds it:

- common: the day, dates, text cleaning, the deadline check, recipients
- quotas: who may apply, which unit reviews, how many places it has
- visibility: who sees which batch, application, report and document
- batches: creating, changing and opening a batch, its rubric
- drafts: who may change a draft and how long its period may be
- documents: uploads and their removal
- applications: starting, filling in, submitting and withdrawing; its stage
- indicators: the 定量指标统计表, kept by chanrong.insights
- reviews: provincial opinions, recommendations within the quota, the joint
  report and the confirmed list
- ministry: scoring, the board, decisions
- publication: publishing the list, the published pilots
- progress: the pilots' progress reports
- evaluation: which pilots lag on which indicators, and its export

The modules import each other directly (never through this package) and
without cycles: common, quotas, visibility and drafts at the bottom, then
documents, batches, indicators, ministry and publication, then
applications, reviews, progress and evaluation.
"""

from .applications import (
    can_apply,
    create_application,
    missing_parts,
    renewable_pilots,
    save_sections,
    stage_of,
    submit_application,
    update_application,
    withdraw_application,
)
from .batches import create_batch, open_batch, set_rubric, update_batch
from .common import MAX_SECTION, MAX_TEXT, MAX_YEAR, MIN_YEAR, today
from .documents import add_application_document, add_batch_document, remove_document
from .drafts import can_edit
from .evaluation import LagRow, evaluation_year_for, export_evaluation, lagging
from .indicators import import_indicator_table, indicator_definitions, set_indicator_targets
from .ministry import ScoreSummary, decide, ministry_board, reconsider, score, score_summary
from .progress import (
    add_report_document,
    create_report,
    return_report,
    submit_report,
    update_report,
)
from .publication import is_pilot, pilots_of, publish_batch, published_batches, published_pilots
from .quotas import (
    CORPS_CITY_PREFIX,
    CORPS_CODE,
    MUNICIPALITIES,
    QuotaStatus,
    is_eligible_region,
    quota_for,
    quota_status,
    review_unit_for,
)
from .reviews import (
    agencies_for_unit,
    confirm_submission,
    decline,
    get_submission,
    recommend,
    record_opinion,
    reopen_review,
    unit_overview,
    upload_joint_report,
)
from .visibility import (
    can_see_submission,
    get_visible_application,
    get_visible_batch,
    get_visible_document,
    get_visible_report,
    visible_applications,
    visible_batches,
)

__all__ = [
    "CORPS_CITY_PREFIX",
    "CORPS_CODE",
    "LagRow",
    "MAX_SECTION",
    "MAX_TEXT",
    "MAX_YEAR",
    "MIN_YEAR",
    "MUNICIPALITIES",
    "QuotaStatus",
    "ScoreSummary",
    "add_application_document",
    "add_batch_document",
    "add_report_document",
    "agencies_for_unit",
    "can_apply",
    "can_edit",
    "can_see_submission",
    "confirm_submission",
    "create_application",
    "create_batch",
    "create_report",
    "decide",
    "decline",
    "evaluation_year_for",
    "export_evaluation",
    "get_submission",
    "get_visible_application",
    "get_visible_batch",
    "get_visible_document",
    "get_visible_report",
    "import_indicator_table",
    "indicator_definitions",
    "is_eligible_region",
    "is_pilot",
    "lagging",
    "ministry_board",
    "missing_parts",
    "open_batch",
    "pilots_of",
    "publish_batch",
    "published_batches",
    "published_pilots",
    "quota_for",
    "quota_status",
    "recommend",
    "reconsider",
    "record_opinion",
    "remove_document",
    "renewable_pilots",
    "reopen_review",
    "return_report",
    "review_unit_for",
    "save_sections",
    "score",
    "score_summary",
    "set_indicator_targets",
    "set_rubric",
    "stage_of",
    "submit_application",
    "submit_report",
    "today",
    "unit_overview",
    "update_application",
    "update_batch",
    "update_report",
    "upload_joint_report",
    "visible_applications",
    "visible_batches",
    "withdraw_application",
]
