"""Masking (core.masking): what each kind of personal value keeps, the
fingerprinted form audit diffs hold, and who may unmask what."""

from __future__ import annotations

import pytest

from chanrong.core import masking
from chanrong.core.masking import Group, Kind


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        (Kind.PHONE, "13812345678", "138****5678"),
        (Kind.PHONE, "0573-84123456", "0573-****3456"),
        (Kind.PHONE, "+86 138 1234 5678", "861****5678"),
        (Kind.PHONE, "1234", "****"),
        (Kind.EMAIL, "zhangsan@example.cn", "z***@example.cn"),
        (Kind.EMAIL, "not-an-address", "n***"),
        (Kind.NAME, "张三", "张*"),
        (Kind.NAME, "张三丰", "张**"),
        (Kind.NAME, "欧阳修文", "欧阳**"),
        (Kind.NAME, "Li Lei", "L***"),
        (Kind.ID_NUMBER, "330421199001011234", "3304**********1234"),
        (Kind.ID_NUMBER, "", ""),
    ],
)
def test_masks(kind, value, masked):
    assert masking.mask(value, kind) == masked


def test_masks_never_contain_the_middle_of_the_value():
    for value in ("13812345678", "330421199001011234"):
        masked = masking.mask(value, Kind.PHONE if len(value) == 11 else Kind.ID_NUMBER)
        assert value[4:-4] not in masked


def test_audit_values_differ_when_the_masks_agree(settings):
    one = masking.audit_value("13812345678", Kind.PHONE)
    two = masking.audit_value("13899995678", Kind.PHONE)
    assert one.startswith("138****5678 #") and two.startswith("138****5678 #") and one != two
    assert masking.audit_value("13812345678", Kind.PHONE) == one  # stable for one key
    assert masking.audit_value("", Kind.PHONE) is None
    changes = masking.mask_changes(
        {"contact_phone": [None, "13812345678"], "address": ["a", "b"]},
        {"contact_phone": Kind.PHONE},
    )
    assert changes == {"contact_phone": [None, "138****5678"], "address": ["a", "b"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "contact", "identity"),
    [
        ("admin", True, True),
        ("gov_jiashan", True, True),
        ("gov_jiashan_staff", False, False),
        ("bank_staff", True, False),
        ("ent2_user", False, False),
    ],
)
def test_who_may_unmask(world, username, contact, identity):
    user = world.user(username)
    assert masking.may_unmask(user, Group.CONTACT) is contact
    assert masking.may_unmask(user, Group.IDENTITY) is identity


@pytest.mark.django_db
def test_inactive_and_anonymous_users_may_not_unmask(world):
    from django.contrib.auth.models import AnonymousUser

    admin = world.user("gov_jiashan")
    admin.is_active = False
    assert masking.may_unmask(admin, Group.CONTACT) is False
    assert masking.may_unmask(AnonymousUser(), Group.CONTACT) is False
    assert masking.is_own(world.user("ent_user"), world.ent.pk)
    assert not masking.is_own(world.user("ent_user"), world.ent2.pk)
