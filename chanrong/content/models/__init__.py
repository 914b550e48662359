"""公开服务 (the public side): 融资知识 articles, FAQ, and 留言咨询.

- An `Article` (融资知识) is written by government staff (for their agency's
  region) or a platform admin, kept as plain-text paragraphs (rendered
  escaped, never as HTML), and published or withdrawn through the ARTICLE
  table in workflows.py. Only published articles are public.
- A `Faq` entry is a question/answer pair in a category, ordered by
  `position`; shown publicly when `published`.
- A `Consultation` (留言) is asked by anyone — anonymously with a name and a
  phone number or e-mail address for the reply, or signed in — and
  addressed to the platform, one government agency or one financial
  institution. It moves through the CONSULTATION table (submitted →
  answered → published | closed). The asker's contact details are
  encrypted at rest (core.fieldcrypt) with keyed hashes for PIPL look-ups;
  the public list shows the name masked and never a phone or e-mail.

Visibility (`visible_to`, one rule per family): the public (and everyone)
sees published articles, published FAQ entries and published
consultations (`published()`); government staff also see the drafts and
consultations of their region's subtree; institution staff the
consultations addressed to their institution; a signed-in asker their own
questions; platform admins everything.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chanrong.core.fieldcrypt import EncryptedTextField, KeyedHashField
from chanrong.core.scope import ScopeKind, scope_of


class ArticleCategory(models.TextChoices):
    PRODUCT = "product", _("融资产品知识")
    POLICY = "policy", _("政策解读")
    GUIDE = "guide", _("操作指南")
    RISK = "risk", _("风险提示")
    CASE = "case", _("典型案例")


class ArticleState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


def _region_scope(user) -> Q | None:
    """Rows of the government user's region subtree (None: not government)."""
    scope = scope_of(user)
    if scope.kind != ScopeKind.GOVERNMENT:
        return None
    if not scope.region_prefix:
        return Q()
    return Q(region__code__startswith=scope.region_prefix)


def _public_or_mine(qs: models.QuerySet, public: Q, mine: Q | None) -> models.QuerySet:
    """What is public, and the user's own region's rows. The national agency's
    region is everything (`Q()`), and `public | Q()` would be `public` alone —
    Django drops an empty Q from an OR — so it is said explicitly: a national
    agency could not open the drafts it manages."""
    if mine is None:
        return qs.filter(public)
    if not mine:
        return qs.all()
    return qs.filter(public | mine)


class ArticleQuerySet(models.QuerySet):
    def published(self) -> ArticleQuerySet:
        return self.filter(state=ArticleState.PUBLISHED)

    def visible_to(self, user) -> ArticleQuerySet:
        if scope_of(user).kind == ScopeKind.PLATFORM:
            return self.all()
        mine = _region_scope(user)
        public = Q(state=ArticleState.PUBLISHED)
        return _public_or_mine(self, public, mine)

    def managed_by(self, user) -> ArticleQuerySet:
        """Articles this user may edit, publish and withdraw."""
        if scope_of(user).kind == ScopeKind.PLATFORM:
            return self.all()
        mine = _region_scope(user)
        return self.filter(mine) if mine is not None else self.none()


class Article(models.Model):
    category = models.CharField("栏目", max_length=16, choices=ArticleCategory.choices)
    title = models.CharField("标题", max_length=200)
    #: Plain text; blank lines separate paragraphs. Never rendered as HTML.
    body = models.TextField("正文")
    source = models.CharField("来源", max_length=200, blank=True)
    #: The publishing agency's region (None: the platform, nationwide).
    region = models.ForeignKey(
        "core.Region",
        verbose_name="发布地区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agency = models.ForeignKey(
        "accounts.GovernmentAgency",
        verbose_name="发布部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        "状态", max_length=12, choices=ArticleState.choices, default=ArticleState.DRAFT
    )
    published_on = models.DateField("发布日期", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "-pk"]
        verbose_name = "融资知识"
        verbose_name_plural = "融资知识"
        indexes = [models.Index(fields=["state", "-published_on"], name="content_article_pub")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("content:article", args=[self.pk])

    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.replace("\r\n", "\n").split("\n\n") if p.strip()]


class FaqCategory(models.TextChoices):
    PLATFORM = "platform", _("平台使用")
    REGISTRATION = "registration", _("注册与认证")
    FINANCING = "financing", _("融资对接")
    POLICY = "policy", _("政策申报")
    CONSULTATION = "consultation", _("留言咨询")


class FaqQuerySet(models.QuerySet):
    def published(self) -> FaqQuerySet:
        return self.filter(published=True)

    def visible_to(self, user) -> FaqQuerySet:
        if scope_of(user).kind == ScopeKind.PLATFORM:
            return self.all()
        mine = _region_scope(user)
        public = Q(published=True)
        return _public_or_mine(self, public, mine)

    def managed_by(self, user) -> FaqQuerySet:
        if scope_of(user).kind == ScopeKind.PLATFORM:
            return self.all()
        mine = _region_scope(user)
        return self.filter(mine) if mine is not None else self.none()


class Faq(models.Model):
    category = models.CharField("分类", max_length=16, choices=FaqCategory.choices)
    question = models.CharField("问题", max_length=300)
    answer = models.TextField("解答")
    position = models.PositiveIntegerField("排序", default=100)
    published = models.BooleanField("公开", default=True)
    region = models.ForeignKey(
        "core.Region",
        verbose_name="维护地区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = FaqQuerySet.as_manager()

    class Meta:
        ordering = ["category", "position", "pk"]
        verbose_name = "常见问题"
        verbose_name_plural = "常见问题"

    def __str__(self) -> str:
        return self.question

    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.answer.replace("\r\n", "\n").split("\n\n") if p.strip()]


class AddresseeKind(models.TextChoices):
    PLATFORM = "platform", _("平台运营方")
    AGENCY = "agency", _("政府部门")
    INSTITUTION = "institution", _("金融机构")


class ConsultationState(models.TextChoices):
    SUBMITTED = "submitted", _("待答复")
    ANSWERED = "answered", _("已答复")
    PUBLISHED = "published", _("已公开")
    CLOSED = "closed", _("已关闭")


#: What a PIPL anonymisation leaves in place of the asker's name (pipl.py).
ANONYMISED_NAME = "（已匿名）"


class ConsultationQuerySet(models.QuerySet):
    def published(self) -> ConsultationQuerySet:
        """The public answered-questions list."""
        return self.filter(state=ConsultationState.PUBLISHED)

    def visible_to(self, user) -> ConsultationQuerySet:
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        public = Q(state=ConsultationState.PUBLISHED)
        own = Q(asker_user_id=user.pk) if scope.kind != ScopeKind.NONE else Q(pk__in=[])
        if scope.kind == ScopeKind.GOVERNMENT:
            region = (
                Q(agency__region__code__startswith=scope.region_prefix)
                if scope.region_prefix
                else Q(addressee_kind=AddresseeKind.AGENCY)
            )
            return self.filter(public | own | region | Q(agency_id=scope.agency_id))
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(public | own | Q(institution_id=scope.institution_id))
        return self.filter(public | own)

    def queue_of(self, user) -> ConsultationQuerySet:
        """What the user's organisation was asked (the answering queue):
        government also sees its region's agencies' questions (to reassign)."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.GOVERNMENT:
            if not scope.region_prefix:
                return self.filter(addressee_kind=AddresseeKind.AGENCY)
            return self.filter(agency__region__code__startswith=scope.region_prefix)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(institution_id=scope.institution_id)
        return self.none()


class Consultation(models.Model):
    subject = models.CharField("主题", max_length=100)
    question = models.TextField("留言内容")
    addressee_kind = models.CharField("咨询对象", max_length=12, choices=AddresseeKind.choices)
    agency = models.ForeignKey(
        "accounts.GovernmentAgency",
        verbose_name="政府部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    institution = models.ForeignKey(
        "finance.FinancialInstitution",
        verbose_name="金融机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    asker_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提问用户",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Personal data: encrypted at rest, masked on the public list, never
    # shown publicly for the phone and e-mail (core.fieldcrypt, core.masking).
    asker_name = EncryptedTextField("留言人", max_length=50, blank=True)
    asker_phone = EncryptedTextField("联系电话", max_length=30, blank=True)
    asker_phone_hash = KeyedHashField(source="asker_phone", purpose="phone")
    asker_email = EncryptedTextField("电子邮箱", max_length=254, blank=True)
    asker_email_hash = KeyedHashField(source="asker_email", purpose="email")
    state = models.CharField(
        "状态",
        max_length=12,
        choices=ConsultationState.choices,
        default=ConsultationState.SUBMITTED,
    )
    answer = models.TextField("答复", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    published_at = models.DateTimeField("公开时间", null=True, blank=True)
    submitted_at = models.DateTimeField("留言时间", default=timezone.now)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = "留言咨询"
        verbose_name_plural = "留言咨询"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(addressee_kind="platform", agency__isnull=True, institution__isnull=True)
                    | Q(addressee_kind="agency", agency__isnull=False, institution__isnull=True)
                    | Q(
                        addressee_kind="institution", agency__isnull=True, institution__isnull=False
                    )
                ),
                name="content_consultation_one_addressee",
            )
        ]
        indexes = [models.Index(fields=["state", "-published_at"], name="content_consult_pub")]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("content:consultation", args=[self.pk])

    @property
    def addressee(self):
        return self.agency or self.institution

    def addressee_label(self) -> str:
        target = self.addressee
        return str(target) if target is not None else str(AddresseeKind.PLATFORM.label)
