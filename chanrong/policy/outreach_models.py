"""政策找人: the record that an enterprise was told about a programme.

Kept beside models.py (imported at its end) so the outreach code owns its one
table. A row per programme and enterprise, written when at least one of the
enterprise's users was notified, makes "at most one message per programme
and enterprise" a unique constraint rather than a hope: the daily job and an
agency's button can both run without telling anyone twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OutreachNotice(models.Model):
    programme = models.ForeignKey(
        "policy.Programme", on_delete=models.CASCADE, related_name="outreach_notices"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.CASCADE, related_name="+"
    )
    #: Users of the enterprise who received the message.
    recipients = models.PositiveIntegerField(default=0)
    #: 免申即享 applications built for it in the same run (0 when only notified).
    built = models.PositiveIntegerField(default=0)
    #: None: the daily job (or the command line).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "政策找人通知"
        verbose_name_plural = "政策找人通知"
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "enterprise"], name="outreach_notice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}/{self.enterprise_id}"
