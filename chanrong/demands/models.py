"""融资需求: demands, their dispatch to institutions, offers, events and feedback.

States move only through `chanrong.demands.workflows` (declared tables) and
`chanrong.demands.services`; the unique constraints below are the backstop
that keeps two concurrent requests from both winning (two claims on an
exclusive demand, two accepted offers on one demand).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections, models, router
from django.db.models import Case, F, Q, When
from django.utils.translation import gettext_lazy as _

from chanrong.core.kept import KeptSnapshot
from chanrong.core.scope import Scope, ScopeKind, scope_of


class DemandKind(models.TextChoices):
    DEBT = "debt", _("债权融资")
    EQUITY = "equity", _("股权融资")
    LEASING = "leasing", _("融资租赁")
    GUARANTEE = "guarantee", _("融资担保")
    INSURANCE = "insurance", _("保险保障")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("较急")
    VERY_URGENT = "very_urgent", _("紧急")


class DemandState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    DISPATCHED = "dispatched", _("已派单")
    CLAIMED = "claimed", _("已接单")
    NEGOTIATING = "negotiating", _("对接中")
    GRANTED = "granted", _("已授信")
    DISBURSED = "disbursed", _("已放款")
    REJECTED = "rejected", _("未获批")
    WITHDRAWN = "withdrawn", _("企业撤回")
    EXPIRED = "expired", _("超时")


#: Closed demands: the enterprise may rate the institutions' service.
CLOSED_STATES = frozenset({DemandState.DISBURSED, DemandState.REJECTED, DemandState.WITHDRAWN})


class DispatchState(models.TextChoices):
    DISPATCHED = "dispatched", _("待接单")
    CLAIMED = "claimed", _("已接单")
    OFFERED = "offered", _("已提交方案")
    ACCEPTED = "accepted", _("方案已被采纳")
    NOT_SELECTED = "not_selected", _("方案未被采纳")
    DECLINED = "declined", _("已谢绝")
    EXPIRED = "expired", _("已超时")
    CANCELLED = "cancelled", _("已取消")
    GRANTED = "granted", _("已授信")
    DISBURSED = "disbursed", _("已放款")
    REJECTED = "rejected", _("未获批")


#: Dispatch states in which the institution is still working on the demand.
LIVE_DISPATCH_STATES = frozenset(
    {
        DispatchState.DISPATCHED,
        DispatchState.CLAIMED,
        DispatchState.OFFERED,
        DispatchState.ACCEPTED,
        DispatchState.GRANTED,
    }
)
#: Dispatch states that hold the claim on an exclusive demand.
CLAIM_HOLDING_STATES = (
    DispatchState.CLAIMED,
    DispatchState.OFFERED,
    DispatchState.ACCEPTED,
    DispatchState.GRANTED,
    DispatchState.DISBURSED,
    DispatchState.REJECTED,
)


class DemandQuerySet(models.QuerySet):
    def visible_to(self, user) -> DemandQuerySet:
        """An enterprise sees its own demands; an institution the demands
        dispatched to it; government the demands (past the draft) of
        enterprises in its region subtree; platform admins all."""
        return self.for_scope(scope_of(user))

    def for_scope(self, scope: Scope) -> DemandQuerySet:
        """`visible_to`'s rule for a scope rather than a user: the kept
        statistics (demands.stats_kept) are computed for a region scope
        before anyone of it looks."""
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(enterprise_id=scope.enterprise_id)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(
                pk__in=Dispatch.objects.filter(institution_id=scope.institution_id).values(
                    "demand_id"
                )
            )
        if scope.kind == ScopeKind.GOVERNMENT:
            queryset = self.exclude(state=DemandState.DRAFT)
            if scope.region_prefix:
                queryset = queryset.filter(enterprise__region__code__startswith=scope.region_prefix)
            return queryset
        return self.none()


class Demand(models.Model):
    """A financing demand (融资需求) an enterprise publishes.

    Amounts in 元, rates in annual percent, terms in months. `project` links
    the demand to one of the enterprise's own registry projects (重点项目),
    so a project's financing can be followed from the 名录库.
    """

    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="demands"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField("融资类型", max_length=12, choices=DemandKind.choices)
    amount = models.DecimalField("融资金额（元）", max_digits=20, decimal_places=2)
    term_months = models.PositiveIntegerField("期限（月）")
    purpose = models.CharField("资金用途", max_length=200)
    description = models.TextField("补充说明", blank=True)
    rate_max = models.DecimalField(
        "可接受的最高年利率（%）", max_digits=7, decimal_places=4, null=True, blank=True
    )
    collateral_offered = models.JSONField("可提供的抵质押物", default=list, blank=True)
    urgency = models.CharField(
        "紧急程度", max_length=12, choices=Urgency.choices, default=Urgency.NORMAL
    )
    project = models.ForeignKey(
        "registry.Project",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="demands",
        verbose_name="关联项目",
    )
    preferred_institutions = models.ManyToManyField(
        "finance.FinancialInstitution", blank=True, related_name="+", verbose_name="意向机构"
    )
    #: Authorise each institution the demand is dispatched to to see the profile.
    share_profile = models.BooleanField("向派单机构授权查看企业信息", default=False)
    state = models.CharField(
        "状态", max_length=12, choices=DemandState.choices, default=DemandState.DRAFT
    )
    #: Copied from CHANRONG_DEMAND_EXCLUSIVE at publication: first claimant only.
    exclusive = models.BooleanField("独家接单", default=False)
    round = models.PositiveSmallIntegerField("派单轮次", default=0)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    accepted_offer = models.ForeignKey(
        "Offer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # outcome
    outcome_institution = models.ForeignKey(
        "finance.FinancialInstitution",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_amount = models.DecimalField(
        "授信金额（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    disbursed_amount = models.DecimalField(
        "放款金额（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    disbursed_rate = models.DecimalField(
        "放款年利率（%）", max_digits=7, decimal_places=4, null=True, blank=True
    )
    disbursed_term_months = models.PositiveIntegerField("放款期限（月）", null=True, blank=True)
    disbursed_on = models.DateField("放款日期", null=True, blank=True)
    rejection_reason = models.CharField("未获批原因", max_length=500, blank=True)
    withdraw_reason = models.CharField("撤回原因", max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DemandQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "融资需求"
        verbose_name_plural = "融资需求"
        indexes = [models.Index(fields=["state", "published_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="demand_amount_positive"),
            models.CheckConstraint(condition=Q(term_months__gt=0), name="demand_term_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.purpose}"[:200]

    @property
    def is_closed(self) -> bool:
        return self.state in CLOSED_STATES

    def preferred_institution_ids(self) -> list[int]:
        """The preferred institutions' pks, ascending: what
        `preferred_institutions.values_list("pk")` gives, read with SQL
        written once per database instead of a related manager's query
        compiled on every call (each create and publish answer names them,
        and dispatching reads them: issue 20's request path). A service
        that has just written or read them under the demand's lock leaves
        them on the instance (`keep_preferred_ids`): the set changes only
        while a draft is edited, by `update_demand`, which keeps the new one."""
        kept = self.__dict__.get("_preferred_ids")
        if kept is not None:
            return list(kept)
        alias = router.db_for_read(Demand)
        sql = _PREFERRED_SQL.get(alias)
        if sql is None:
            field = Demand._meta.get_field("preferred_institutions")
            quote = connections[alias].ops.quote_name
            table = quote(field.remote_field.through._meta.db_table)
            wanted, owner = quote(field.m2m_reverse_name()), quote(field.m2m_column_name())
            # Names from the model's meta, quoted: no user input in this SQL.
            sql = _PREFERRED_SQL[alias] = (
                f"SELECT {wanted} FROM {table} WHERE {owner} = %s ORDER BY {wanted}"  # noqa: S608
            )
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [self.pk])
            return [row[0] for row in cursor.fetchall()]

    def keep_preferred_ids(self, ids) -> None:
        """What `preferred_institution_ids` answers for this instance from now on."""
        self._preferred_ids = tuple(sorted(set(ids)))


_PREFERRED_SQL: dict[str, str] = {}


class DispatchQuerySet(models.QuerySet):
    def visible_to(self, user) -> DispatchQuerySet:
        """An institution sees its own dispatches only; the enterprise, the
        government of its region and platform admins see every dispatch of
        the demands they can see."""
        return self.for_scope(scope_of(user))

    def for_scope(self, scope: Scope) -> DispatchQuerySet:
        """`visible_to`'s rule for a scope (see DemandQuerySet.for_scope)."""
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(institution_id=scope.institution_id)
        if scope.kind in (ScopeKind.PLATFORM, ScopeKind.ENTERPRISE, ScopeKind.GOVERNMENT):
            return self.filter(demand__in=Demand.objects.for_scope(scope))
        return self.none()


class Dispatch(models.Model):
    """One demand sent to one institution (and, when it has one there, its
    branch in the enterprise's region). Its own state machine runs beside the
    demand's; the deadlines are working-day deadlines (core.workdays)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="dispatches")
    institution = models.ForeignKey(
        "finance.FinancialInstitution", on_delete=models.PROTECT, related_name="dispatches"
    )
    branch = models.ForeignKey(
        "finance.Branch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(
        "状态", max_length=14, choices=DispatchState.choices, default=DispatchState.DISPATCHED
    )
    exclusive = models.BooleanField(default=False)
    round = models.PositiveSmallIntegerField("派单轮次", default=1)
    #: Why this institution: product pks it qualifies for, and/or "preferred".
    matched_products = models.JSONField(default=list, blank=True)
    preferred = models.BooleanField("企业意向机构", default=False)
    dispatched_at = models.DateTimeField()
    claim_due_at = models.DateTimeField("接单期限")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decide_due_at = models.DateTimeField("办理期限", null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField("谢绝原因", max_length=500, blank=True)

    objects = DispatchQuerySet.as_manager()

    class Meta:
        ordering = ["dispatched_at", "pk"]
        verbose_name = "派单"
        verbose_name_plural = "派单"
        indexes = [
            models.Index(fields=["institution", "state"]),
            models.Index(fields=["state", "claim_due_at"]),
            # GET /dispatches: an institution's newest first, one page at a time.
            models.Index(
                fields=["institution", "-dispatched_at", "-id"], name="dispatch_institution_recent"
            ),
            # 超期无人接单 (demands.todo): was an expired demand ever claimed? A
            # probe into the claimed dispatches only, not into all of its own.
            models.Index(
                fields=["demand"],
                condition=Q(claimed_at__isnull=False),
                name="dispatch_claimed_demand",
            ),
            # 督办看板's open list (sla.supervision_board): its page in deadline
            # order read off this index, the scope tested on those rows only,
            # instead of sorting every open dispatch in the country first.
            models.Index(
                fields=["claim_due_at", "id"],
                condition=Q(state__in=("dispatched", "claimed")),
                name="dispatch_open_due",
            ),
            # Its overdue list: the open dispatches by the deadline of the stage
            # they wait in (sla._due_expression: 接单 for those not claimed, 反馈
            # for the claimed), the most overdue first.
            models.Index(
                Case(
                    When(state="dispatched", then=F("claim_due_at")),
                    default=F("decide_due_at"),
                ),
                F("id"),
                condition=Q(state__in=("dispatched", "claimed")),
                name="dispatch_open_stage_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["demand", "institution"], name="one_dispatch_per_institution"
            ),
            models.UniqueConstraint(
                fields=["demand"],
                condition=Q(exclusive=True, state__in=CLAIM_HOLDING_STATES),
                name="one_claim_per_exclusive_demand",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.demand_id} → {self.institution}"


class OfferQuerySet(models.QuerySet):
    def visible_to(self, user) -> OfferQuerySet:
        """An institution sees only its own offers, never another's; the
        enterprise, its region's government and platform admins see all
        offers on the demands they can see."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(institution_id=scope.institution_id)
        if scope.kind in (ScopeKind.PLATFORM, ScopeKind.ENTERPRISE, ScopeKind.GOVERNMENT):
            return self.filter(demand__in=Demand.objects.visible_to(user))
        return self.none()


class Offer(models.Model):
    """An institution's answer to a demand: one per dispatch, revisable until
    the enterprise decides. Its status is the dispatch's state."""

    dispatch = models.OneToOneField(Dispatch, on_delete=models.CASCADE, related_name="offer")
    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="offers")
    institution = models.ForeignKey(
        "finance.FinancialInstitution", on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        "finance.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.DecimalField("金额（元）", max_digits=20, decimal_places=2)
    rate = models.DecimalField("年利率（%）", max_digits=7, decimal_places=4, null=True, blank=True)
    term_months = models.PositiveIntegerField("期限（月）")
    terms = models.TextField("方案说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "融资方案"
        verbose_name_plural = "融资方案"
        constraints = [
            models.UniqueConstraint(
                fields=["demand"],
                condition=Q(accepted_at__isnull=False),
                name="one_accepted_offer_per_demand",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="offer_amount_positive"),
            models.CheckConstraint(condition=Q(term_months__gt=0), name="offer_term_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.institution} · {self.demand_id}"


class DemandEventQuerySet(models.QuerySet):
    def visible_to(self, user) -> DemandEventQuerySet:
        """The timeline of visible demands; an institution does not see the
        events that concern another institution (its offer, its claim), and
        nobody else sees the messages addressed to one institution alone."""
        scope = scope_of(user)
        queryset = self.filter(demand__in=Demand.objects.visible_to(user))
        if scope.kind == ScopeKind.INSTITUTION:
            return queryset.filter(
                Q(institution__isnull=True) | Q(institution_id=scope.institution_id)
            )
        return queryset.filter(private=False)


class DemandEvent(models.Model):
    """One line of a demand's timeline (what happened, who did it, to whom).

    The audit log is the tamper-evident record; this is the readable,
    per-demand view of it, with `institution` set on events private to one
    institution so that others never see them.
    """

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=64)
    message = models.CharField(max_length=500)
    institution = models.ForeignKey(
        "finance.FinancialInstitution",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: Addressed to `institution` alone (its inbox copy), not part of the public story.
    private = models.BooleanField(default=False)

    objects = DemandEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "需求动态"
        verbose_name_plural = "需求动态"

    def __str__(self) -> str:
        return self.message


class FeedbackQuerySet(models.QuerySet):
    def visible_to(self, user) -> FeedbackQuerySet:
        """Ratings are public to signed-in users (they show on the institution's
        page, without the enterprise's name)."""
        if scope_of(user).kind == ScopeKind.NONE:
            return self.none()
        return self.all()


class Feedback(models.Model):
    """After a demand closes, the enterprise rates one institution's service."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="feedback")
    institution = models.ForeignKey(
        "finance.FinancialInstitution", on_delete=models.CASCADE, related_name="feedback"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.CASCADE, related_name="+"
    )
    score = models.PositiveSmallIntegerField("评分（1–5）")
    comment = models.CharField("评价", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "服务评价"
        verbose_name_plural = "服务评价"
        constraints = [
            models.UniqueConstraint(
                fields=["demand", "institution"], name="one_feedback_per_demand_institution"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="feedback_score_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution}: {self.score}"


class SupervisionSnapshot(KeptSnapshot):
    """The 督办看板's financing statistics kept for its default view (this
    year up to `as_of`, issue 20): one row, `key` "all", with when it was
    computed, how long that took and a government user's pending request to
    compute it again. The figures are kept per region scope
    (`SupervisionFigures`); demands.stats_kept says why and how."""

    key = models.CharField(max_length=8, unique=True, default="all")

    class Meta:
        verbose_name = "督办统计快照"
        verbose_name_plural = "督办统计快照"

    def __str__(self) -> str:
        return f"{self.key} {self.as_of}"


class SupervisionFigures(models.Model):
    """The statistics of one government scope (`region_prefix`, "" for the
    whole country: national agencies and platform admins), every grouping
    at once, as `demands.stats` computes them for a viewer of that scope:
    the groups' keys and counts, amounts as decimal text, and the middle one
    or two durations the medians are taken over (labels are looked up when
    shown, in the viewer's language)."""

    snapshot = models.ForeignKey(
        SupervisionSnapshot, on_delete=models.CASCADE, related_name="figures"
    )
    region_prefix = models.CharField(max_length=6, blank=True)
    figures = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "region_prefix"], name="one_supervision_figures_per_scope"
            )
        ]
        verbose_name = "督办统计快照数值"
        verbose_name_plural = "督办统计快照数值"

    def __str__(self) -> str:
        return self.region_prefix or "*"
