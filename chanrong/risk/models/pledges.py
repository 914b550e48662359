"""Green-rights pledges (绿色权益质押: 碳排放权, 用能权, 排污权) of a loan, each
with the number its registering authority gave the pledge (质押登记编号).

The kinds are finance's collateral kinds (finance.GREEN_RIGHTS), so a
product's 可接受的抵质押物, a demand's 可提供的抵质押物 and a loan's pledge
speak the same words.

One registration number identifies one pledge registration at one authority
(全国碳排放权注册登记系统, a province's 排污权 / 用能权 交易中心): the same
number may not secure two loans that are alive at once — a second pledge of
the same right is registered again and gets its own number — so the service
refuses a number already pledged, for the same kind, to a live loan
(status 存续). Once that loan is settled, recalled and repaid, written off
or renewed (无还本续贷: the pledge continues on the new loan, which the bank
reports with the same number) the number is free again; that is why it is a
check among live loans and not a database-wide unique key. Within one loan
the pair (kind, number) is unique in the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chanrong.finance.models import GREEN_RIGHTS

from .loans import MONEY, LoanAccount

GREEN_RIGHT_CHOICES = [(str(kind.value), kind.label) for kind in GREEN_RIGHTS]
REGISTRATION_MAX = 64


class GreenPledgeQuerySet(models.QuerySet):
    def visible_to(self, user) -> GreenPledgeQuerySet:
        """Pledges of the loans `user` sees (the loan book's rule)."""
        return self.filter(loan__in=LoanAccount.objects.visible_to(user))


class GreenPledge(models.Model):
    loan = models.ForeignKey(LoanAccount, on_delete=models.CASCADE, related_name="green_pledges")
    kind = models.CharField(_("质押权益"), max_length=20, choices=GREEN_RIGHT_CHOICES)
    registration_no = models.CharField(_("质押登记编号"), max_length=REGISTRATION_MAX)
    authority = models.CharField(_("登记机构"), max_length=100)
    value = models.DecimalField(_("评估价值（元）"), null=True, blank=True, **MONEY)
    registered_on = models.DateField(_("登记日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GreenPledgeQuerySet.as_manager()

    class Meta:
        verbose_name = _("绿色权益质押")
        verbose_name_plural = _("绿色权益质押")
        ordering = ["loan", "pk"]
        indexes = [models.Index(fields=["kind", "registration_no"])]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "kind", "registration_no"], name="risk_green_pledge_once_per_loan"
            ),
            models.CheckConstraint(
                condition=~models.Q(registration_no="") & ~models.Q(authority=""),
                name="risk_green_pledge_registered",
            ),
            models.CheckConstraint(
                condition=models.Q(value__isnull=True) | models.Q(value__gt=0),
                name="risk_green_pledge_value_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.registration_no}"
