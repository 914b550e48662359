"""The 名录库: enterprises and their profiles, tax credit grades, qualifications,
projects, versioned lists (白名单 / 红名单 / 黑名单 …) and operating data.

Visibility is one `visible_to(user)` per family: enterprises (and what hangs
off them: grades, qualifications, operating data), projects, and lists
(lists, versions, entries). Business rules live in `services`.
"""

# The package re-exports every model so `from chanrong.registry.models import X` keeps working.
# ruff: noqa: F401
from chanrong.core.codes import EnterpriseSize

from .credit import CreditKind, CreditRecord, CreditRecordQuerySet
from .enterprises import (
    ChongqingClass,
    DataAuthorisation,
    Enterprise,
    EnterpriseQuerySet,
    FactSource,
    FactStatus,
    StrategicEmergingCategory,
    TaxCreditGrade,
    TaxGrade,
)
from .lists import (
    DEFAULT_SUBJECTS,
    OPEN_STATUSES,
    EnterpriseList,
    EnterpriseListQuerySet,
    EntryChange,
    ImmutableVersion,
    ListEntry,
    ListEntryQuerySet,
    ListSector,
    ListType,
    ListVersion,
    ListVersionQuerySet,
    VersionStatus,
    _code_prefixes,
    version_visibility,
)
from .operating import OperatingRecord, OperatingRecordQuerySet, PeriodType, ReviewStatus
from .projects import Project, ProjectClass, ProjectKind, ProjectQuerySet, ProjectStage
from .qualifications import (
    ListingBoard,
    Qualification,
    QualificationKind,
    QualificationQuerySet,
    QualificationSource,
)
