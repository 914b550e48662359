"""The 产融合作试点城市 programme: batches, applications, the provincial and the
ministry review, publication, and the pilots' progress reports.

The flow follows the five ministries' notice (工信部联财函〔2020〕161号):
a city or district (县级及以上) applies in a batch before the application
deadline; the provincial 工信 department, with its 财政 / 人行 / 金融监管 /
证监 counterparts, recommends at most two per province (one per 计划单列市
and for 新疆生产建设兵团) and confirms before the provincial deadline with a
joint report; the five ministries score and decide, and the list is
published. A pilot whose period has ended renews by submitting directly to
the ministry. Rules live in services.py; the state machines in workflows.py.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chanrong.core.fieldcrypt import EncryptedTextField
from chanrong.core.scope import ScopeKind, scope_of


class BatchState(models.TextChoices):
    DRAFT = "draft", _("未发布")
    OPEN = "open", _("已发布通知")
    PUBLISHED = "published", pgettext_lazy("pilot batch state", "已公布名单")


class EligibleLevel(models.TextChoices):
    COUNTY = "county", _("县级及以上城市（区）")
    PREFECTURE = "prefecture", _("地级及以上城市")


class Batch(models.Model):
    """One call for applications (第一批, 第二批 …) with its dates, notice,
    outline (编制提纲) and scoring rubric.

    Both deadlines are the last day on which the act is still accepted
    (Asia/Shanghai calendar day): "申报截止日期为2020年8月31日" and
    "2020年9月15日前在申报系统中确认推荐".
    """

    number = models.PositiveSmallIntegerField("批次序号", unique=True)
    name = models.CharField("批次名称", max_length=64)
    state = models.CharField(
        "状态", max_length=12, choices=BatchState.choices, default=BatchState.DRAFT
    )
    notice_title = models.CharField("通知标题", max_length=200, blank=True)
    notice_number = models.CharField("文号", max_length=64, blank=True)
    notice_text = models.TextField("通知正文", blank=True)
    application_deadline = models.DateField("申报截止日期")
    provincial_deadline = models.DateField("省级确认推荐截止日期")
    eligible_level = models.CharField(
        "申报对象", max_length=12, choices=EligibleLevel.choices, default=EligibleLevel.COUNTY
    )
    max_period_years = models.PositiveSmallIntegerField("实施期上限（年）", default=3)
    province_quota = models.PositiveSmallIntegerField("各省推荐名额", default=2)
    special_quota = models.PositiveSmallIntegerField(
        "计划单列市、新疆生产建设兵团推荐名额", default=1
    )
    # The 编制提纲: [{"key": "basis", "title": "产融合作基础", "guidance": "…"}, …]
    outline = models.JSONField("实施方案编制提纲", default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    opened_at = models.DateTimeField("通知发布时间", null=True, blank=True)
    published_at = models.DateTimeField("名单公布时间", null=True, blank=True)
    result_title = models.CharField("名单公布标题", max_length=200, blank=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = "试点批次"
        verbose_name_plural = "试点批次"

    def __str__(self) -> str:
        return self.name


class RubricCriterion(models.Model):
    """One line of the ministry's scoring rubric for a batch (configurable)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField("评分项", max_length=100)
    description = models.CharField("评分要点", max_length=500, blank=True)
    max_score = models.DecimalField("满分", max_digits=6, decimal_places=2)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        ordering = ["batch", "order", "pk"]
        verbose_name = "评分项"
        verbose_name_plural = "评分项"
        constraints = [
            models.CheckConstraint(condition=Q(max_score__gt=0), name="rubric_max_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.max_score}）"


class ApplicationKind(models.TextChoices):
    NEW = "new", _("新申报")
    RENEWAL = "renewal", _("延续试点")


class ApplicationState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")


class ApplicationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ApplicationQuerySet:
        """Platform admins see all. National agencies see every submitted
        application. A regional agency sees the submitted applications of its
        region's subtree, plus those it reviews (the 兵团's cities carry
        Xinjiang codes, 6590xx, but are reviewed by the corps), plus its own
        region's drafts. Enterprises and institutions see none (the public
        list of pilots is a separate page)."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind != ScopeKind.GOVERNMENT:
            return self.none()
        if not scope.region_prefix:
            return self.exclude(state=ApplicationState.DRAFT)
        region_id = user.agency.region_id
        submitted = ~Q(state=ApplicationState.DRAFT) & (
            Q(region__code__startswith=scope.region_prefix) | Q(review_region_id=region_id)
        )
        return self.filter(submitted | Q(region_id=region_id))


class Application(models.Model):
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="applications")
    region = models.ForeignKey(
        "core.Region", verbose_name="申报城市（区）", on_delete=models.PROTECT, related_name="+"
    )
    # The provincial-level unit that reviews it and whose quota it uses: the
    # province, a 计划单列市, or 新疆生产建设兵团 (see services.review_unit_for).
    review_region = models.ForeignKey(
        "core.Region", verbose_name="推荐单位辖区", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(
        "申报类型", max_length=12, choices=ApplicationKind.choices, default=ApplicationKind.NEW
    )
    previous = models.ForeignKey(
        "self",
        verbose_name="原试点申报",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewals",
    )
    title = models.CharField("实施方案名称", max_length=200, blank=True)
    start_year = models.PositiveSmallIntegerField("实施期起始年份", null=True, blank=True)
    end_year = models.PositiveSmallIntegerField("实施期截止年份", null=True, blank=True)
    # The city's contact person: encrypted at rest, masked for those who do
    # not review the application (services/personal.py).
    contact_name = EncryptedTextField("联系人", max_length=64, blank=True)
    contact_phone = EncryptedTextField("联系电话", max_length=32, blank=True)
    state = models.CharField(
        "状态", max_length=12, choices=ApplicationState.choices, default=ApplicationState.DRAFT
    )
    indicator_plan = models.OneToOneField(
        "insights.IndicatorPlan",
        verbose_name="定量指标统计表",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pilot_application",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["batch", "review_region", "region"]
        verbose_name = "试点申报"
        verbose_name_plural = "试点申报"
        constraints = [
            models.UniqueConstraint(fields=["batch", "region"], name="pilot_one_application"),
            models.CheckConstraint(
                condition=Q(start_year__isnull=True)
                | Q(end_year__isnull=True)
                | Q(end_year__gte=models.F("start_year")),
                name="pilot_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(kind="new", previous__isnull=True)
                | Q(kind="renewal", previous__isnull=False),
                name="pilot_renewal_has_previous",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region.name} · {self.batch.name}"

    @property
    def period_label(self) -> str:
        if self.start_year and self.end_year:
            return f"{self.start_year}—{self.end_year}年"
        return ""

    @property
    def is_renewal(self) -> bool:
        return self.kind == ApplicationKind.RENEWAL


class PlanSection(models.Model):
    """One chapter of the 实施方案, following the batch's 编制提纲."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(max_length=40)
    title = models.CharField("标题", max_length=100)
    order = models.PositiveSmallIntegerField(default=0)
    body = models.TextField("内容", blank=True)

    class Meta:
        ordering = ["application", "order"]
        constraints = [
            models.UniqueConstraint(fields=["application", "key"], name="pilot_section_unique")
        ]

    def __str__(self) -> str:
        return self.title


class ReviewState(models.TextChoices):
    PENDING = "pending", _("待审核")
    RECOMMENDED = "recommended", _("已确认推荐")
    NOT_RECOMMENDED = "not_recommended", pgettext_lazy("review state", "不予推荐")
    FORWARDED = "forwarded", _("已报送部级评审")


class ProvincialReview(models.Model):
    """The provincial unit's decision on one new application.

    `batch` and `review_region` repeat the application's so that the quota
    is one indexed count; `slot` (1…quota) is the recommendation's place in
    the quota: unique per unit and batch, so even a bug in the locking could
    never hand out the same place twice.
    """

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="provincial_review"
    )
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="+")
    review_region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        "状态", max_length=16, choices=ReviewState.choices, default=ReviewState.PENDING
    )
    slot = models.PositiveSmallIntegerField("推荐序位", null=True, blank=True)
    comment = models.CharField("推荐意见", max_length=1000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)

    class Meta:
        ordering = ["batch", "review_region", "application"]
        verbose_name = "省级审核"
        verbose_name_plural = "省级审核"
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "review_region", "slot"], name="pilot_quota_slot_unique"
            ),
            models.CheckConstraint(
                condition=Q(slot__isnull=True) | Q(slot__gte=1), name="pilot_quota_slot_positive"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["recommended", "forwarded"], slot__isnull=False)
                | (~Q(state__in=["recommended", "forwarded"]) & Q(slot__isnull=True)),
                name="pilot_slot_iff_recommended",
            ),
        ]

    def __str__(self) -> str:
        return f"省级审核：{self.application}"


class Stance(models.TextChoices):
    SUPPORT = "support", _("同意推荐")
    RESERVE = "reserve", _("有保留意见")
    OPPOSE = "oppose", _("不同意推荐")


class ReviewOpinion(models.Model):
    """A provincial department's opinion (工信 / 财政 / 人行 / 金融监管 / 证监)."""

    review = models.ForeignKey(ProvincialReview, on_delete=models.CASCADE, related_name="opinions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    agency = models.ForeignKey(
        "accounts.GovernmentAgency", on_delete=models.PROTECT, related_name="+"
    )
    stance = models.CharField("意见", max_length=12, choices=Stance.choices)
    text = models.TextField("意见说明", blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["review", "created_at", "pk"]
        verbose_name = "审核意见"
        verbose_name_plural = "审核意见"

    def __str__(self) -> str:
        return f"{self.agency}：{self.get_stance_display()}"


class SubmissionState(models.TextChoices):
    OPEN = "open", _("未确认")
    CONFIRMED = "confirmed", _("已确认上报")


class ProvincialSubmission(models.Model):
    """A provincial unit's confirmation for one batch, with the joint report
    (联合上报文件). Its row is also the lock that serialises the unit's
    recommendations (see services.recommend)."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="submissions")
    review_region = models.ForeignKey(
        "core.Region", verbose_name="推荐单位辖区", on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        "状态", max_length=12, choices=SubmissionState.choices, default=SubmissionState.OPEN
    )
    note = models.TextField("说明", blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        ordering = ["batch", "review_region"]
        verbose_name = "省级确认上报"
        verbose_name_plural = "省级确认上报"
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "review_region"], name="pilot_one_submission_per_unit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.review_region.name} · {self.batch.name}"


class MinistryState(models.TextChoices):
    SCORING = "scoring", _("部级评审中")
    APPROVED = "approved", _("确定为试点")
    REJECTED = "rejected", _("未入选")


class MinistryReview(models.Model):
    """The five ministries' review of one application that reached them
    (recommended and confirmed by its province, or a renewal)."""

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="ministry_review"
    )
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        "状态", max_length=12, choices=MinistryState.choices, default=MinistryState.SCORING
    )
    decision_note = models.CharField("评审结论", max_length=1000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    created_at = models.DateTimeField("进入部级评审", auto_now_add=True)

    class Meta:
        ordering = ["batch", "application"]
        verbose_name = "部级评审"
        verbose_name_plural = "部级评审"

    def __str__(self) -> str:
        return f"部级评审：{self.application}"


class MinistryScore(models.Model):
    """One reviewer's scores on one application: {criterion id: score}."""

    review = models.ForeignKey(MinistryReview, on_delete=models.CASCADE, related_name="scores")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey(
        "accounts.GovernmentAgency", on_delete=models.PROTECT, related_name="+"
    )
    items = models.JSONField("分项得分", default=dict)
    total = models.DecimalField("总分", max_digits=7, decimal_places=2)
    comment = models.TextField("评审意见", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review", "agency", "pk"]
        verbose_name = "评审打分"
        verbose_name_plural = "评审打分"
        constraints = [
            models.UniqueConstraint(fields=["review", "reviewer"], name="pilot_one_score_each")
        ]

    def __str__(self) -> str:
        return f"{self.agency}：{self.total}"


class ReportPeriod(models.TextChoices):
    Q1 = "Q1", _("第一季度")
    H1 = "H1", _("上半年")
    Q3 = "Q3", _("前三季度")
    Y = "Y", _("全年")


class ReportState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报送")


class ProgressReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProgressReportQuerySet:
        """A report is visible exactly when its application is; drafts only to
        the pilot's own region (and platform admins)."""
        visible = self.filter(application__in=Application.objects.visible_to(user))
        scope = scope_of(user)
        if scope.kind == ScopeKind.GOVERNMENT:
            return visible.filter(
                ~Q(state=ReportState.DRAFT) | Q(application__region_id=user.agency.region_id)
            )
        return visible


class ProgressReport(models.Model):
    """A pilot city's periodic progress report ("季度交流、半年督导、全年评估")."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="progress_reports"
    )
    year = models.PositiveSmallIntegerField("年度")
    period = models.CharField("报告期", max_length=2, choices=ReportPeriod.choices)
    state = models.CharField(
        "状态", max_length=12, choices=ReportState.choices, default=ReportState.DRAFT
    )
    summary = models.TextField("工作进展")
    problems = models.TextField("存在问题", blank=True)
    next_steps = models.TextField("下一步计划", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)

    objects = ProgressReportQuerySet.as_manager()

    class Meta:
        ordering = ["application", "-year", "-created_at"]
        verbose_name = "试点进展报告"
        verbose_name_plural = "试点进展报告"
        constraints = [
            models.UniqueConstraint(
                fields=["application", "year", "period"], name="pilot_one_report_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application.region.name} {self.year}年{self.get_period_display()}进展"


class DocumentKind(models.TextChoices):
    NOTICE = "notice", _("通知文件")
    OUTLINE = "outline", _("实施方案编制提纲")
    TEMPLATE = "template", _("定量指标统计表模板")
    BATCH_OTHER = "batch_other", _("其他附件")
    DECLARATION = "declaration", _("申报文件")
    MATERIAL = "material", _("相关材料")
    JOINT_REPORT = "joint_report", _("联合上报文件")
    PROGRESS = "progress", _("进展报告附件")


BATCH_KINDS = (
    DocumentKind.NOTICE,
    DocumentKind.OUTLINE,
    DocumentKind.TEMPLATE,
    DocumentKind.BATCH_OTHER,
)
APPLICATION_KINDS = (DocumentKind.DECLARATION, DocumentKind.MATERIAL)


def _upload_to(instance: Document, filename: str) -> str:
    """An unguessable name under MEDIA_ROOT/pilots/; the person's file name is
    kept in `original_name` and only ever sent in Content-Disposition."""
    suffix = PurePosixPath(filename).suffix.lower()[:8]
    return f"pilots/{instance.kind}/{uuid.uuid4().hex}{suffix}"


class Document(models.Model):
    """An uploaded file, attached to exactly one owner (batch, application,
    provincial submission or progress report). Downloads go only through the
    view that checks the owner's visibility, never through MEDIA_URL."""

    kind = models.CharField("类别", max_length=16, choices=DocumentKind.choices)
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    submission = models.ForeignKey(
        ProvincialSubmission,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="documents",
    )
    report = models.ForeignKey(
        ProgressReport, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField("材料名称", max_length=200, blank=True)
    file = models.FileField(upload_to=_upload_to, max_length=200)
    original_name = models.CharField("文件名", max_length=200)
    file_type = models.CharField("文件类型", max_length=8)  # pdf, doc, docx, xls, xlsx, jpg, png
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        ordering = ["kind", "uploaded_at", "pk"]
        verbose_name = "附件"
        verbose_name_plural = "附件"
        constraints = [
            models.CheckConstraint(
                name="pilot_document_one_owner",
                condition=(
                    Q(
                        batch__isnull=False,
                        application__isnull=True,
                        submission__isnull=True,
                        report__isnull=True,
                    )
                    | Q(
                        batch__isnull=True,
                        application__isnull=False,
                        submission__isnull=True,
                        report__isnull=True,
                    )
                    | Q(
                        batch__isnull=True,
                        application__isnull=True,
                        submission__isnull=False,
                        report__isnull=True,
                    )
                    | Q(
                        batch__isnull=True,
                        application__isnull=True,
                        submission__isnull=True,
                        report__isnull=False,
                    )
                ),
            )
        ]

    def __str__(self) -> str:
        return self.title or self.original_name
