"""Business rules of the 名录库: enterprises and their profiles, tax credit
grades, qualifications, projects, versioned lists and operating data.

Views, API handlers, imports and the demo all come through here, so the
size is always computed the same way, every input is checked by one
cleaner, and every change is audited in its own transaction. Every function
that changes something takes the acting user first.

The rules live in one module per subdomain; this package re-exports their
public names, so callers import from `chanrong.registry.services` as before:

fields             input helpers every cleaner shares (dates, amounts in 万元, choices)
access             who may register, edit and see an enterprise
profile            the profile fields (企业档案) and data authorisations to institutions
enterprises        create / update / delete, the USCC, the computed size
tax_grades         纳税信用等级, one row per evaluation year
qualifications     资质 (专精特新, 高新技术企业, listings …), with their history
eligibility        the registry's facts for financing eligibility
projects           重点项目, and the checks of a project import row
lists              versioned lists (名单) and drafting their versions
list_entries       the members of a draft version, and the checks of a member import row
list_publishing    submit, reject, publish … a version (the LIST_VERSION workflow)
list_reports       comparing versions, an enterprise's memberships, the .xlsx export
operating          operating data (工业运行数据), plausibility flags, review, chart
provenance         declared vs verified facts, verifying them, moving an enterprise (issue 15)
enterprise_import  the bulk enterprise import behind chanrong.registry.imports
credit             credit records (行政处罚, 司法判决, 纳税 …) from other departments;
                   imported as `chanrong.registry.services.credit` (not re-exported)
"""

from ..workflows import can_review_operating_data
from .access import (
    can_create_enterprise,
    can_edit_enterprise,
    get_visible_enterprise,
)
from .eligibility import (
    eligibility_facts,
)
from .enterprise_import import (
    IMPORT_AUDIT_LIST_MAX,
    IMPORT_CORE_FIELDS,
    EnterpriseImport,
    EnterpriseImportResult,
    can_import_enterprises,
    clean_enterprise_import,
    import_enterprises,
    save_enterprise_import,
    start_enterprise_import,
)
from .enterprises import (
    EDITABLE_FIELDS,
    clean_enterprise_data,
    compute_size,
    create_enterprise,
    delete_enterprise,
    update_enterprise,
    upsert_enterprise,
)
from .fields import (
    MAX_AMOUNT,
    MAX_AMOUNT_WAN,
    WAN,
    parse_date,
)
from .list_entries import (
    add_list_entry,
    check_list_entry,
    find_entry,
    remove_list_entry,
)
from .list_publishing import (
    publish_version,
    reject_version,
    reopen_version,
    submit_version,
    version_actions,
    withdraw_version,
)
from .list_reports import (
    PastMembership,
    VersionDiff,
    compare_versions,
    enterprise_memberships,
    export_version_xlsx,
)
from .lists import (
    can_create_list,
    clean_list_data,
    create_list,
    discard_version,
    get_visible_list,
    get_visible_version,
    get_visible_version_by_id,
    latest_published,
    open_version,
    start_version,
    update_list,
    update_version,
)
from .operating import (
    DEFAULT_YOY_BOUND,
    OPERATING_AMOUNTS,
    OPERATING_FIELDS,
    OPERATING_INPUT,
    OPERATING_LABELS,
    Period,
    can_enter_operating_data,
    clean_operating_values,
    confirm_operating_record,
    correct_operating_record,
    get_visible_operating_record,
    operating_chart_option,
    parse_period,
    plausibility_flags,
    record_operating_data,
    upsert_operating_data,
    yoy_bound,
)
from .profile import (
    PROFILE_FIELDS,
    authorise_institution,
    authorise_institutions,
    clean_profile_data,
    revoke_authorisation,
    update_enterprise_profile,
    upsert_enterprise_profile,
)
from .projects import (
    PROJECT_FIELDS,
    can_create_project,
    can_edit_project,
    check_project_import,
    clean_project_data,
    create_project,
    get_visible_project,
    update_project,
    upsert_project,
)
from .provenance import (
    can_move_enterprise,
    figure_flags,
    reject_qualification,
    verify_figures,
    verify_qualification,
)
from .qualifications import (
    QUALIFICATION_FIELDS,
    add_qualification,
    can_edit_qualifications,
    can_revoke_qualification,
    clean_qualification_data,
    get_visible_qualification,
    revoke_qualification,
    update_qualification,
)
from .tax_grades import (
    FIRST_M_GRADE_YEAR,
    FIRST_TAX_GRADE_YEAR,
    can_record_tax_grade,
    clean_tax_grade,
    set_tax_grade,
)

__all__ = [
    "DEFAULT_YOY_BOUND",
    "EDITABLE_FIELDS",
    "EnterpriseImport",
    "EnterpriseImportResult",
    "FIRST_M_GRADE_YEAR",
    "FIRST_TAX_GRADE_YEAR",
    "IMPORT_AUDIT_LIST_MAX",
    "IMPORT_CORE_FIELDS",
    "MAX_AMOUNT",
    "MAX_AMOUNT_WAN",
    "OPERATING_AMOUNTS",
    "OPERATING_FIELDS",
    "OPERATING_INPUT",
    "OPERATING_LABELS",
    "PROFILE_FIELDS",
    "PROJECT_FIELDS",
    "PastMembership",
    "Period",
    "QUALIFICATION_FIELDS",
    "VersionDiff",
    "WAN",
    "add_list_entry",
    "add_qualification",
    "authorise_institution",
    "authorise_institutions",
    "can_create_enterprise",
    "can_create_list",
    "can_create_project",
    "can_edit_enterprise",
    "can_edit_project",
    "can_edit_qualifications",
    "can_revoke_qualification",
    "can_enter_operating_data",
    "can_import_enterprises",
    "can_move_enterprise",
    "can_record_tax_grade",
    "can_review_operating_data",
    "check_list_entry",
    "check_project_import",
    "clean_enterprise_data",
    "clean_enterprise_import",
    "clean_list_data",
    "clean_operating_values",
    "clean_profile_data",
    "clean_project_data",
    "clean_qualification_data",
    "clean_tax_grade",
    "compare_versions",
    "compute_size",
    "confirm_operating_record",
    "correct_operating_record",
    "create_enterprise",
    "create_list",
    "create_project",
    "delete_enterprise",
    "discard_version",
    "eligibility_facts",
    "enterprise_memberships",
    "export_version_xlsx",
    "figure_flags",
    "find_entry",
    "get_visible_enterprise",
    "get_visible_list",
    "get_visible_operating_record",
    "get_visible_project",
    "get_visible_qualification",
    "get_visible_version",
    "get_visible_version_by_id",
    "import_enterprises",
    "latest_published",
    "open_version",
    "operating_chart_option",
    "parse_date",
    "parse_period",
    "plausibility_flags",
    "publish_version",
    "record_operating_data",
    "reject_qualification",
    "reject_version",
    "remove_list_entry",
    "reopen_version",
    "revoke_authorisation",
    "revoke_qualification",
    "save_enterprise_import",
    "set_tax_grade",
    "start_enterprise_import",
    "start_version",
    "submit_version",
    "update_enterprise",
    "update_enterprise_profile",
    "update_list",
    "update_project",
    "update_qualification",
    "update_version",
    "upsert_enterprise",
    "upsert_enterprise_profile",
    "upsert_operating_data",
    "upsert_project",
    "verify_figures",
    "verify_qualification",
    "version_actions",
    "withdraw_version",
    "yoy_bound",
]
