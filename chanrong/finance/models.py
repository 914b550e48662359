"""Financial institutions and their branches."""

from django.db import models


class InstitutionKind(models.TextChoices):
    BANK = "bank", "银行"
    GUARANTEE = "guarantee", "融资担保"
    INSURER = "insurer", "保险"
    LEASING = "leasing", "融资租赁"
    SECURITIES = "securities", "证券"
    FUND = "fund", "基金"
    MICRO_LOAN = "micro_loan", "小额贷款"
    OTHER = "other", "其他"


class InstitutionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "InstitutionQuerySet":
        """Institutions publish themselves: every signed-in user may see the
        directory of institutions and branches (not their staff or tokens)."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self.all()


class FinancialInstitution(models.Model):
    """A financial institution's head office (总部 / 总行)."""

    name = models.CharField("名称", max_length=100, unique=True)
    short_name = models.CharField("简称", max_length=32, blank=True)
    kind = models.CharField("类型", max_length=16, choices=InstitutionKind.choices)
    uscc = models.CharField("统一社会信用代码", max_length=18, blank=True)
    region = models.ForeignKey(
        "core.Region", verbose_name="总部所在地", on_delete=models.PROTECT, related_name="+"
    )
    website = models.URLField("网站", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "金融机构"
        verbose_name_plural = "金融机构"

    def __str__(self) -> str:
        return self.short_name or self.name


class BranchLevel(models.TextChoices):
    PROVINCIAL = "provincial", "省级分行/分公司"
    MUNICIPAL = "municipal", "市级分行/分公司"
    SUB = "sub", "支行/营业部"


class Branch(models.Model):
    """A branch of an institution, located in (and serving) one region."""

    institution = models.ForeignKey(
        FinancialInstitution, on_delete=models.CASCADE, related_name="branches"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=12, choices=BranchLevel.choices)
    region = models.ForeignKey(
        "core.Region", verbose_name="所在地", on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("电话", max_length=32, blank=True)

    class Meta:
        ordering = ["institution", "region", "name"]
        verbose_name = "分支机构"
        verbose_name_plural = "分支机构"
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="branch_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
