"""An enterprise put on record by its own approved self-registration.

Called by the registration review (accounts.directory, registry/registration.py)
when the USCC is not yet in the 名录库: the agency approving the application
is the actor, but what is on record was stated by the enterprise, so its
provenance is 企业自报 and its figures stay declared (none were given) until
the agency verifies them in the ordinary way.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import NotAllowed

from .. import signals as registry_signals
from ..models import Enterprise, FactSource, FactStatus
from .access import can_create_enterprise
from .enterprises import _snapshot


def create_self_registered(
    actor,
    *,
    uscc: str,
    name: str,
    region,
    industry,
    contact_name: str,
    contact_phone: str,
    contact_email: str,
) -> Enterprise:
    """Create the enterprise (inside the caller's transaction), audited as
    `enterprise.create` with `via: registration`."""
    if not can_create_enterprise(actor):
        raise NotAllowed(_("只有政府用户或平台管理员可以登记企业"))
    enterprise = Enterprise(
        uscc=uscc,
        name=name,
        region=region,
        industry=industry,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
        figures_status=FactStatus.DECLARED,
        figures_source=FactSource.ENTERPRISE,
    )
    enterprise.save()
    audit.record(
        "enterprise.create",
        actor=actor,
        obj=enterprise,
        changes={**audit.diff({}, _snapshot(enterprise)), "via": "registration"},
    )
    registry_signals.enterprises_changed.send_after_commit([enterprise.pk])
    return enterprise
