import pytest

from chanrong.registry.models import Enterprise

pytestmark = pytest.mark.django_db


def visible(world, username):
    return set(Enterprise.objects.visible_to(world.user(username)).values_list("name", flat=True))


def test_visible_to_follows_the_one_rule(world):
    everyone = {world.ent.name, world.ent2.name, world.ent_js.name}
    zhejiang = {world.ent.name, world.ent2.name}
    assert visible(world, "admin") == everyone
    assert visible(world, "gov_national") == everyone
    assert visible(world, "gov_zhejiang") == zhejiang
    assert visible(world, "gov_jiashan") == zhejiang
    assert visible(world, "gov_jiangsu") == {world.ent_js.name}
    assert visible(world, "ent_user") == {world.ent.name}
    assert visible(world, "ent2_user") == {world.ent2.name}
    assert visible(world, "bank_staff") == {world.ent.name}
    assert visible(world, "bank2_staff") == set()
