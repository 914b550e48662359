"""上市培育 (listing cultivation): one pipeline per enterprise and target board.

- A `Pipeline` follows one enterprise towards one board (主板, 创业板, 科创板,
  北交所 — the exchange boards, ending in 上市; 新三板, 区域性股权市场 and its
  专精特新专板 — ending in 挂牌) through the stages 孵化 → 股改 → 辅导备案 →
  申报 → 审核/注册 → 上市/挂牌. It can be withdrawn or terminated (撤回/终止)
  from any stage before the last. Its `stage` only moves through the
  transition table in workflows.py.
- A `StageRecord` is one stage reached: the date, the responsible agency (a
  government organisation on the platform), the document number (辅导备案 at
  the 证监局, the exchange's 受理 number, the 股改 business-licence change …)
  and a note of the evidence. Records are written once, by the services.
- On 上市/挂牌 the pipeline holds the stock code and the proceeds (募集资金, 元);
  the registry gets a `Qualification` of kind LISTED (services.stages).

Visibility (`visible_to`, one rule for the family): an enterprise sees its
own pipelines; government sees the pipelines of enterprises in its region's
subtree; platform admins see all; anyone else nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chanrong.core.scope import ScopeKind, scope_of


class Board(models.TextChoices):
    MAIN = "main", _("主板")
    CHINEXT = "chinext", _("创业板")
    STAR = "star", _("科创板")
    BSE = "bse", _("北交所")
    NEEQ = "neeq", _("新三板")
    REGIONAL = "regional", _("区域性股权市场")
    REGIONAL_SME = "regional_sme", _("区域性股权市场专精特新专板")


#: Boards of the stock exchanges (上交所/深交所/北交所): a pipeline ends in 上市.
EXCHANGE_BOARDS = frozenset({Board.MAIN, Board.CHINEXT, Board.STAR, Board.BSE})
#: Boards where an enterprise is quoted (挂牌) rather than listed.
QUOTED_BOARDS = frozenset({Board.NEEQ, Board.REGIONAL, Board.REGIONAL_SME})
REGIONAL_BOARDS = frozenset({Board.REGIONAL, Board.REGIONAL_SME})


class Stage(models.TextChoices):
    INCUBATION = "incubation", pgettext_lazy("listing stage", "孵化")
    SHAREHOLDING = "shareholding", pgettext_lazy("listing stage", "股改")
    TUTORING = "tutoring", pgettext_lazy("listing stage", "辅导备案")
    FILING = "filing", pgettext_lazy("listing stage", "申报")
    REVIEW = "review", pgettext_lazy("listing stage", "审核/注册")
    LISTED = "listed", pgettext_lazy("listing stage", "上市")
    QUOTED = "quoted", pgettext_lazy("listing stage", "挂牌")
    WITHDRAWN = "withdrawn", pgettext_lazy("listing stage", "撤回/终止")


#: The stages every pipeline passes through, in order, before its last one.
PATH = (Stage.INCUBATION, Stage.SHAREHOLDING, Stage.TUTORING, Stage.FILING, Stage.REVIEW)
FINAL = frozenset({Stage.LISTED, Stage.QUOTED})
#: Past 孵化 and not yet listed: the 上市后备 reserve.
RESERVE = frozenset({Stage.SHAREHOLDING, Stage.TUTORING, Stage.FILING, Stage.REVIEW})


def final_stage(board: str) -> str:
    return Stage.QUOTED if board in QUOTED_BOARDS else Stage.LISTED


def next_stage(stage: str, board: str) -> str | None:
    """The one stage a pipeline on `board` may move to from `stage`."""
    if stage in PATH:
        index = PATH.index(stage)
        return PATH[index + 1] if index + 1 < len(PATH) else final_stage(board)
    return None


def stage_order(stage: str) -> int:
    return PATH.index(stage) if stage in PATH else len(PATH)


class PipelineQuerySet(models.QuerySet):
    def visible_to(self, user) -> PipelineQuerySet:
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(enterprise_id=scope.enterprise_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            if not scope.region_prefix:
                return self.all()
            return self.filter(enterprise__region__code__startswith=scope.region_prefix)
        return self.none()

    def in_region(self, prefix: str) -> PipelineQuerySet:
        return self.filter(enterprise__region__code__startswith=prefix) if prefix else self.all()


class Pipeline(models.Model):
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name="企业",
        on_delete=models.PROTECT,
        related_name="listing_pipelines",
    )
    board = models.CharField("目标板块", max_length=16, choices=Board.choices)
    stage = models.CharField(
        "当前阶段", max_length=16, choices=Stage.choices, default=Stage.INCUBATION
    )
    agency = models.ForeignKey(
        "accounts.GovernmentAgency",
        verbose_name="负责部门",
        on_delete=models.PROTECT,
        related_name="listing_pipelines",
    )
    stock_code = models.CharField("证券代码", max_length=20, blank=True)
    proceeds = models.DecimalField(
        "募集资金（元）", max_digits=18, decimal_places=2, null=True, blank=True
    )
    listed_on = models.DateField("上市/挂牌日期", null=True, blank=True)
    withdrawn_on = models.DateField("撤回/终止日期", null=True, blank=True)
    withdraw_reason = models.CharField("撤回/终止原因", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PipelineQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "上市培育进程"
        verbose_name_plural = "上市培育进程"
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "board"],
                condition=~Q(stage="withdrawn"),
                name="listing_one_open_pipeline_per_board",
            ),
            models.CheckConstraint(
                condition=Q(proceeds__isnull=True) | Q(proceeds__gte=0),
                name="listing_proceeds_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["stage", "listed_on"], name="listing_stage_listed_on")]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.get_board_display()}"

    def get_absolute_url(self) -> str:
        return reverse("listing:detail", args=[self.pk])

    @property
    def next_stage(self) -> str | None:
        return next_stage(self.stage, self.board)

    @property
    def is_open(self) -> bool:
        return self.stage in PATH


class StageRecordQuerySet(models.QuerySet):
    def visible_to(self, user) -> StageRecordQuerySet:
        return self.filter(pipeline__in=Pipeline.objects.visible_to(user))


class StageRecord(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="records")
    stage = models.CharField("阶段", max_length=16, choices=Stage.choices)
    reached_on = models.DateField("日期")
    agency = models.ForeignKey(
        "accounts.GovernmentAgency",
        verbose_name="负责部门",
        on_delete=models.PROTECT,
        related_name="+",
    )
    document_no = models.CharField("文号/受理号", max_length=100, blank=True)
    evidence = models.CharField("佐证材料说明", max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StageRecordQuerySet.as_manager()

    class Meta:
        ordering = ["pipeline", "reached_on", "pk"]
        verbose_name = "上市培育阶段记录"
        verbose_name_plural = "上市培育阶段记录"
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "stage"], name="listing_one_record_per_stage"
            )
        ]
        indexes = [models.Index(fields=["stage", "reached_on"], name="listing_record_stage_on")]

    def __str__(self) -> str:
        return f"{self.pipeline} {self.get_stage_display()} {self.reached_on}"
