"""Import specs of the 名录库: enterprises, projects, list members, operating data.

Each spec names its columns (the Chinese headers of the template, with the
aliases real files use) and hands rows to `chanrong.registry.services`,
which holds every rule. Registered with the generic engine in
`chanrong.core.importing`; the export of the enterprise table uses the same
headers, so an exported file can be edited and imported back.

The engines find this package with autodiscover_modules("imports"), so it
registers every spec and the export below, in the order the import page
lists the kinds:

common        Chinese labels, USCC aliases, the row-by-row write the small kinds share
enterprises   the enterprise template, checked and written in bulk
projects      重点项目, by owner and name
list_members  members added to or removed from a draft list version
government    what government imports about registered enterprises: operating data,
              tax credit grades, qualifications
credit        credit records (行政处罚, 司法判决, 纳税 …) from other departments
exports       the enterprise table as .xlsx, with the template's headers
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from chanrong.core.exporting import Export, register_export
from chanrong.core.importing.spec import register

from .common import USCC_ALIASES
from .credit import CREDIT_COLUMNS, CreditRecordSpec
from .enterprises import ENTERPRISE_COLUMNS, EnterpriseSpec
from .exports import ENTERPRISE_EXPORT_COLUMNS, export_enterprises
from .government import (
    OPERATING_COLUMNS,
    QUALIFICATION_COLUMNS,
    TAX_GRADE_COLUMNS,
    OperatingSpec,
    PeriodCell,
    QualificationSpec,
    TaxGradeSpec,
)
from .list_members import LIST_MEMBER_COLUMNS, ListAction, ListMemberSpec
from .projects import PROJECT_COLUMNS, ProjectSpec

__all__ = [
    "CREDIT_COLUMNS",
    "CreditRecordSpec",
    "ENTERPRISE_COLUMNS",
    "ENTERPRISE_EXPORT_COLUMNS",
    "LIST_MEMBER_COLUMNS",
    "OPERATING_COLUMNS",
    "PROJECT_COLUMNS",
    "QUALIFICATION_COLUMNS",
    "TAX_GRADE_COLUMNS",
    "USCC_ALIASES",
    "EnterpriseSpec",
    "ListAction",
    "ListMemberSpec",
    "OperatingSpec",
    "PeriodCell",
    "ProjectSpec",
    "QualificationSpec",
    "TaxGradeSpec",
    "export_enterprises",
]

register(EnterpriseSpec())
register(ProjectSpec())
register(ListMemberSpec())
register(OperatingSpec())
register(TaxGradeSpec())
register(QualificationSpec())
register(CreditRecordSpec())

register_export(
    Export(
        "enterprises",
        _("企业名录"),
        export_enterprises,
        personal_fields=("法定代表人", "联系人", "联系电话", "电子邮箱"),
    )
)
