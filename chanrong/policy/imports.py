"""The policy app's downloads, registered with the kernel's export registry
(`core.exporting`); the kernel finds this module with
autodiscover_modules("imports") and serves it at /exports/<kind>/."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from chanrong.core.exporting import Export, register_export

from .views.ledger import export_ledger

register_export(Export("policy_ledger", _("政策资金台账"), export_ledger))
