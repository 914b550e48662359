"""Pages of the 产融合作试点城市申报系统. Views only translate between HTTP and
chanrong.pilots.services: visibility comes from the services' `get_visible_*` (anything
not visible is a 404), rules and state changes from the services, whose
refusals are shown as messages or as field errors on the forms.

One module per part of the programme; this package keeps every view
importable as `views.<name>`, so urls.py names them as before:

- batches: the entry page, the published lists, a batch's pages
- applications: a city's application, from starting it to submitting it
- documents: downloading and removing stored files
- reviews: the provincial unit's and the ministry's pages
- progress: progress reports and the evaluation of the pilots
- common: what they share (errors to 404 / 403, messages, one-application
  actions)
"""

from .applications import (
    application_create,
    application_detail,
    application_document,
    application_edit,
    application_indicators,
    application_list,
    application_plan,
    application_submit,
    application_unmask,
    application_withdraw,
)
from .batches import (
    batch_create,
    batch_detail,
    batch_document,
    batch_edit,
    batch_list,
    batch_open,
    batch_publish,
    batch_rubric,
    index,
    public_batch,
    public_list,
)
from .documents import document_delete, document_download
from .progress import (
    report_create,
    report_detail,
    report_document,
    report_return,
    report_submit,
    tracking,
    tracking_export,
)
from .reviews import (
    application_decide,
    application_decline,
    application_opinion,
    application_recommend,
    application_reconsider,
    application_reopen,
    application_score,
    ministry_board,
    province_batch,
    province_confirm,
    province_index,
    province_joint_report,
)

__all__ = [
    "application_create",
    "application_decide",
    "application_decline",
    "application_detail",
    "application_document",
    "application_edit",
    "application_indicators",
    "application_list",
    "application_opinion",
    "application_plan",
    "application_unmask",
    "application_recommend",
    "application_reconsider",
    "application_reopen",
    "application_score",
    "application_submit",
    "application_withdraw",
    "batch_create",
    "batch_detail",
    "batch_document",
    "batch_edit",
    "batch_list",
    "batch_open",
    "batch_publish",
    "batch_rubric",
    "document_delete",
    "document_download",
    "index",
    "ministry_board",
    "province_batch",
    "province_confirm",
    "province_index",
    "province_joint_report",
    "public_batch",
    "public_list",
    "report_create",
    "report_detail",
    "report_document",
    "report_return",
    "report_submit",
    "tracking",
    "tracking_export",
]
