"""The shipped 绿色产业指导目录（2019年版）: complete (6 / 30 / 211), codes unique
and hierarchical, a sample of names as the original prints them, the file
says what it was checked against; and migration 0006 brings a database
loaded from the old 142-item file to the complete edition while every
application keeps the item it chose (now under its right code)."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from django.apps import apps as django_apps

from chanrong.core.models import AuditEntry
from chanrong.green.models import CatalogueEdition, CatalogueItem, LibraryApplication
from chanrong.green.services import catalogue
from chanrong.registry.models import EnterpriseList, ListType
from tests.conftest import JIASHAN

pytestmark = pytest.mark.django_db

migration = importlib.import_module("chanrong.green.migrations.0006_catalogue_2019_complete")


def _file():
    return json.loads(catalogue.DEFAULT_FILE.read_text(encoding="utf-8"))


def test_file_is_complete_unique_and_hierarchical():
    data = catalogue.read_edition(catalogue.DEFAULT_FILE)
    codes = [item["code"] for item in data["items"]]
    assert len(codes) == len(set(codes))
    levels = [code.count(".") + 1 for code in codes]
    assert (levels.count(1), levels.count(2), levels.count(3)) == (6, 30, 211)
    known = set(codes)
    for code in codes:
        assert re.fullmatch(r"[1-6](\.[1-9]\d?){0,2}", code)
        if "." in code:
            assert code.rsplit(".", 1)[0] in known
    # Numbers within a parent run 1..n without gaps (the original's numbering).
    children: dict[str, list[int]] = {}
    for code in codes:
        parent, _dot, last = code.rpartition(".")
        children.setdefault(parent, []).append(int(last))
    for parent, numbers in children.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), parent
    # Third-level items per first-level category, as in the original.
    per_top = {
        str(n): sum(1 for c in codes if c.count(".") == 2 and c[0] == str(n)) for n in range(1, 7)
    }
    assert per_top == {"1": 63, "2": 20, "3": 32, "4": 29, "5": 36, "6": 31}


def test_names_as_in_the_original_and_sources_recorded():
    items = {item["code"]: item["name"] for item in _file()["items"]}
    assert items["3.2.6"] == "煤层气（煤矿瓦斯）抽采利用设施建设和运营"
    assert items["3.2.10"] == "热泵建设和运营"
    assert items["5.2.2"] == "港口、码头岸电设施及机场廊桥供电设施建设"
    assert items["5.2.5"] == "充电、换电、加氢和加气设施建设和运营"
    assert items["4.2.5"] == (
        "国家公园、世界遗产、国家级风景名胜区、国家森林公园、国家地质公园、国家湿地公园等保护性运营"
    )
    assert items["6.5.8"] == "绿色建材认证推广"
    # Nothing of the 2023 edition (节能降碳产业 …) crept in.
    assert "节能降碳产业" not in items.values()
    edition = _file()["edition"]
    assert edition["document_no"] == "发改环资〔2019〕293号"
    checked = {(v["repository"], v["path"]) for v in edition["verified_against"]}
    assert ("caitaotaotao/GreenIndustryCata", "sample/green_industry_sim.xlsx") in checked
    assert all(re.fullmatch(r"[0-9a-f]{40}", v["commit"]) for v in edition["verified_against"])


def test_loaded_edition_has_every_item():
    if not CatalogueEdition.objects.filter(code="2019").exists():
        catalogue.load_edition()
    items = CatalogueItem.objects.filter(edition__code="2019")
    assert [items.filter(level=n).count() for n in (1, 2, 3)] == [6, 30, 211]
    # Every level-2 category has items now: applications name level-3 items only.
    edition = CatalogueEdition.objects.get(code="2019")
    assert set(catalogue.applicable_items(edition).values_list("level", flat=True)) == {3}


def _old_state(edition) -> dict[str, CatalogueItem]:
    """The database as migration 0002 left it from the 142-item file, for the
    rows 0006 moves: 3.2.6–3.2.10 and 5.2.2–5.2.10 replaced by the old rows."""
    items = CatalogueItem.objects.filter(edition=edition)
    items.filter(code__regex=r"^(3\.2|5\.2)\.\d+$").delete()
    parents = {code: items.get(code=code) for code in ("3.2", "5.2")}
    old = {}
    for code, name, _new in migration.RECODE:
        old[code] = CatalogueItem.objects.create(
            edition=edition,
            code=code,
            name=name,
            level=3,
            parent=parents[code[:3]],
            sort_key=migration._sort_key(code),
        )
    for code in ("3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.2.5", "5.2.1"):
        CatalogueItem.objects.create(
            edition=edition,
            code=code,
            name=f"old {code}",
            level=3,
            parent=parents[code[:3]],
            sort_key=migration._sort_key(code),
        )
    items.filter(code="1.2.7").update(name="环境污染处理药剂材料制造")
    return old


def _application(world, item) -> LibraryApplication:
    """One per list: an enterprise has one open application per list."""
    top = CatalogueItem.objects.get(edition_id=item.edition_id, code=item.code[0])
    green_list = EnterpriseList.objects.create(
        list_type=ListType.GREEN,
        name=f"库 {item.code}",
        agency=world.gov_jiashan,
        region_id=JIASHAN,
    )
    return LibraryApplication.objects.create(
        green_list=green_list,
        enterprise=world.ent_js,
        item=item,
        category=top,
        description="x",
    )


def test_migration_moves_old_rows_to_their_codes_and_keeps_applications(world):
    if not CatalogueEdition.objects.filter(code="2019").exists():
        catalogue.load_edition()
    edition = CatalogueEdition.objects.get(code="2019")
    old = _old_state(edition)
    geothermal = _application(world, old["3.2.6"])
    heat_pump = _application(world, old["3.2.9"])
    vehicles = _application(world, old["5.2.5"])
    slow = _application(world, old["5.2.4"])

    migration.forward(django_apps, None)

    items = CatalogueItem.objects.filter(edition=edition)
    assert [items.filter(level=n).count() for n in (1, 2, 3)] == [6, 30, 211]
    expected = {i["code"]: i["name"] for i in _file()["items"]}
    assert {i.code: i.name for i in items} == expected
    for app, code, name in (
        (geothermal, "3.2.7", "地热能利用设施建设和运营"),
        (heat_pump, "3.2.10", "热泵建设和运营"),
        (vehicles, "5.2.7", "城乡公共交通系统建设和运营"),
        (slow, "5.2.6", "城市慢行系统建设和运营"),
    ):
        app.refresh_from_db()
        assert (app.item.code, app.item.name) == (code, name)
    # Only the application whose item is no item of the edition changed row: audited.
    entry = AuditEntry.objects.get(action="green.library.item_corrected")
    assert entry.object_id == str(vehicles.pk)
    assert entry.changes["item"][0] == "5.2.5 城乡公共客运和货运配送车辆"
    # Running it again changes nothing.
    migration.forward(django_apps, None)
    assert {i.code: i.name for i in items.all()} == expected
    assert AuditEntry.objects.filter(action="green.library.item_corrected").count() == 1
