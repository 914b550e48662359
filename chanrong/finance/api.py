"""The directory of financial institutions and their branches (read-only)."""

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import ObjectId, RegionCode, Text
from chanrong.core.errors import NotFound, ValidationFailed
from chanrong.core.models import Region

from .models import Branch, BranchLevel, FinancialInstitution, InstitutionKind

router = Router(tags=["institutions 金融机构"])


class InstitutionOut(Schema):
    id: int
    name: str
    short_name: str
    kind: InstitutionKind
    uscc: str
    region_code: str = Field(description="总部所在地代码")
    region_name: str
    website: str

    @staticmethod
    def resolve_region_code(obj: FinancialInstitution) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: FinancialInstitution) -> str:
        return obj.region.name


class BranchOut(Schema):
    id: int
    name: str
    level: BranchLevel
    parent_id: int | None
    region_code: str
    region_name: str
    address: str
    phone: str

    @staticmethod
    def resolve_region_code(obj: Branch) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: Branch) -> str:
        return obj.region.name


class InstitutionDetailOut(InstitutionOut):
    branches: list[BranchOut]

    @staticmethod
    def resolve_branches(obj: FinancialInstitution) -> list[Branch]:
        return list(obj.branches.select_related("region").order_by("region_id", "name", "pk"))


class InstitutionFilter(Schema):
    q: Text(100) | None = Field(None, description="名称或简称包含")  # type: ignore[valid-type]
    kind: InstitutionKind | None = None
    region: RegionCode | None = Field(
        None, description="行政区划代码：总部或任一分支机构位于该区划（含下级）"
    )


@router.get("", response=responses({200: list[InstitutionOut]}, 422), summary="金融机构列表")
@paginated
def list_institutions(request, filters: Query[InstitutionFilter]):
    queryset = FinancialInstitution.objects.visible_to(actor(request)).select_related("region")
    if filters.q and filters.q.strip():
        text = filters.q.strip()
        queryset = queryset.filter(Q(name__icontains=text) | Q(short_name__icontains=text))
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.region:
        region = Region.objects.filter(pk=filters.region).first()
        if region is None:
            raise ValidationFailed({"region": _("行政区划代码 %s 不存在") % filters.region})
        inside = Branch.objects.filter(region__code__startswith=region.prefix).values(
            "institution_id"
        )
        queryset = queryset.filter(Q(region__code__startswith=region.prefix) | Q(pk__in=inside))
    return queryset.order_by("name", "pk")


@router.get(
    "/{id}",
    response=responses({200: InstitutionDetailOut}, 404, 422),
    summary="金融机构详情（含分支机构）",
)
def get_institution(request, id: ObjectId):
    institution = (
        FinancialInstitution.objects.visible_to(actor(request))
        .select_related("region")
        .filter(pk=id)
        .first()
    )
    if institution is None:
        raise NotFound(_("金融机构不存在"))
    return institution
