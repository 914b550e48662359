"""Shared kernel: reference data (regions, industries), the audit log, notifications."""

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chanrong.core.scope import ScopeKind, scope_of


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省级")
    PREFECTURE = "prefecture", _("地级")
    COUNTY = "county", _("县级")


class Region(models.Model):
    """An administrative division (GB/T 2260), keyed by its 6-digit code.

    `prefix` is the part of the code that all descendants share ("33" for
    浙江省, "3304" for 嘉兴市, "330421" for 嘉善县), so a region subtree is a
    `code__startswith=prefix` query on an indexed column: no recursive query.
    The national root is not a row; its prefix is "".
    """

    code = models.CharField("代码", max_length=6, primary_key=True)
    name = models.CharField("名称", max_length=64)
    level = models.CharField("级别", max_length=12, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    prefix = models.CharField(max_length=6, db_index=True)
    # 计划单列市 (大连, 青岛, 宁波, 厦门, 深圳): the pilot quotas treat them like provinces.
    is_separate_plan_city = models.BooleanField("计划单列市", default=False)
    # 新疆生产建设兵团: a provincial-level entry with no GB/T 2260 code of its own.
    is_corps = models.BooleanField("新疆生产建设兵团", default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        names = []
        node: Region | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))

    def contains(self, code: str) -> bool:
        return code.startswith(self.prefix)


class IndustryLevel(models.TextChoices):
    SECTION = "section", _("门类")
    DIVISION = "division", _("大类")
    GROUP = "group", _("中类")


class Industry(models.Model):
    """An industry of GB/T 4754-2017: section "C", division "C39", group "K701".

    Only sections and divisions are loaded in full; the groups of divisions G59
    and K70 are loaded too because the SME size standard splits them (装卸搬运
    from 仓储, 房地产开发经营 from 物业管理).
    """

    code = models.CharField("代码", max_length=5, primary_key=True)
    name = models.CharField("名称", max_length=64)
    level = models.CharField("级别", max_length=10, choices=IndustryLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "国民经济行业"
        verbose_name_plural = "国民经济行业"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def can_browse_audit(user) -> bool:
    """Only the audit administrator browses the audit log (三权分立, issue 15);
    for everyone else, system administrator included, the audit pages do not
    exist: 404."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and getattr(user, "is_audit_admin", False)
    )


class AuditEntryQuerySet(models.QuerySet):
    def visible_to(self, user) -> "AuditEntryQuerySet":
        """The audit administrator sees every entry (and is today the only
        one who browses: `can_browse_audit`). The regional rule below is kept
        for object-history views should they be opened to government again:
        platform and national government admins every entry, a
        regional government admin sees the entries whose actor belongs to an
        organisation in the region's subtree (enterprise by its location,
        institution staff by their branch, else the head office; agency by its
        region), or whose object is an enterprise or a user account there.

        The rule is evaluated against today's organisations (by `actor_id`),
        not stored in the entry: the hashed payload stays unchanged, and the
        copied `organisation` text still records who the actor was then.
        """
        if not can_browse_audit(user):
            return self.none()
        if getattr(user, "is_audit_admin", False):
            return self.all()
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM or not scope.region_prefix:
            return self.all()
        return self.filter(self._in_region(scope.region_prefix))

    @staticmethod
    def _in_region(prefix: str) -> Q:
        user_model = apps.get_model("accounts", "User")
        enterprise_model = apps.get_model("registry", "Enterprise")
        users = user_model.objects.filter(
            Q(enterprise__region__code__startswith=prefix)
            | Q(branch__region__code__startswith=prefix)
            | Q(branch__isnull=True, institution__region__code__startswith=prefix)
            | Q(agency__region__code__startswith=prefix)
        )
        as_text = Cast("pk", models.CharField(max_length=64))
        enterprise_ids = (
            enterprise_model.objects.filter(region__code__startswith=prefix)
            .annotate(key=as_text)
            .values("key")
        )
        return (
            Q(actor_id__in=users.values("pk"))
            | Q(object_type="registry.enterprise", object_id__in=enterprise_ids)
            | Q(
                object_type="accounts.user", object_id__in=users.annotate(key=as_text).values("key")
            )
        )


class AuditEntry(models.Model):
    """One row of the append-only, hash-chained audit log (日志完整性保护).

    Every row carries the SHA-256 of the previous row, so editing or deleting
    any row breaks the chain from there on; `chanrong audit verify` finds the
    first broken row. Actor and organisation are copied as text rather than
    referenced, so deleting a user can never rewrite history.
    """

    # NULL until the entry is sealed onto the chain (core.audit.seal), which
    # happens at once or right after the writing transaction commits.
    seq = models.BigIntegerField(unique=True, null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_name = models.CharField(max_length=150, blank=True)
    organisation = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(max_length=64, unique=True, null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The entries still to be sealed: a handful at any moment.
            models.Index(fields=["id"], condition=Q(seq__isnull=True), name="core_audit_unsealed"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq or '—'} {self.action} {self.object_type}:{self.object_id}"


class Notification(models.Model):
    """An in-app inbox message."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    verb = models.CharField(max_length=64)
    message = models.CharField(max_length=500)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "通知"
        verbose_name_plural = "通知"

    def __str__(self) -> str:
        return self.message


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("处理中")
    DONE = "done", pgettext_lazy("import status", "已完成")
    REJECTED = "rejected", _("未导入")
    FAILED = "failed", _("出错")


class ImportStage(models.TextChoices):
    QUEUED = "queued", _("等待处理")
    READING = "reading", _("读取文件")
    VALIDATING = "validating", _("逐行校验")
    WRITING = "writing", _("写入数据")
    FINISHED = "finished", _("结束")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all", _("全部无误才导入")
    VALID_ONLY = "valid_only", _("仅导入无误的行")


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ImportJobQuerySet":
        """Users see the imports they started (government: the registry's
        kinds; institutions: their loan book); platform admins see all."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind in (ScopeKind.GOVERNMENT, ScopeKind.INSTITUTION) and getattr(
            user, "pk", None
        ):
            return self.filter(created_by=user)
        return self.none()


class ImportJob(models.Model):
    """One uploaded file being (or having been) imported.

    The state lives here, not in the browser or the worker, so the progress
    page survives a reload and a background worker reports through it. The
    file is kept in the row (not on a disk a second web server cannot see)
    until the import ends, then dropped; the findings stay for the report.
    """

    kind = models.CharField("导入类型", max_length=32)
    params = models.JSONField("参数", default=dict, blank=True)
    mode = models.CharField(
        "导入方式", max_length=12, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    stage = models.CharField(
        "阶段", max_length=12, choices=ImportStage.choices, default=ImportStage.QUEUED
    )
    background = models.BooleanField("后台处理", default=False)
    filename = models.CharField("文件名", max_length=255)
    size = models.PositiveBigIntegerField("文件大小（字节）", default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    content = models.BinaryField(null=True, blank=True, editable=False)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    processed_rows = models.PositiveIntegerField("已校验行数", default=0)
    valid_rows = models.PositiveIntegerField("无误行数", default=0)
    error_rows = models.PositiveIntegerField("有误行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    issue_count = models.PositiveIntegerField("问题数", default=0)
    issues = models.JSONField("问题", default=list, blank=True)
    message = models.TextField("说明", blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"

    def __str__(self) -> str:
        return f"{self.filename}（{self.get_status_display()}）"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.REJECTED, ImportStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.is_finished or self.stage == ImportStage.WRITING:
            return 100
        if not self.total_rows:
            return 0
        return min(99, self.processed_rows * 100 // self.total_rows)


class Counter(models.Model):
    """A shared counter with an expiry: the API's rate windows and the
    coalesced refusal counts (core.counters). Each change is one atomic
    statement; rows past `expires_at` are dead and purged periodically."""

    name = models.CharField(max_length=200, primary_key=True)
    value = models.BigIntegerField(default=0)
    #: Unix seconds; +inf for a counter that never expires.
    expires_at = models.FloatField(db_index=True)

    class Meta:
        verbose_name = "计数器"
        verbose_name_plural = "计数器"

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"
