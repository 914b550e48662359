"""Regions in the programme: who may apply (县级及以上城市（区）), which
provincial-level unit reviews an application (a province, a 计划单列市 or
the 兵团) and how many places that unit may recommend in a batch."""

from __future__ import annotations

from dataclasses import dataclass

from chanrong.core.models import Region, RegionLevel

from ..models import Batch, EligibleLevel, ProvincialReview, ReviewState

# The four 直辖市 are province-level cities: they may apply themselves.
MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
# The 兵团's cities (石河子, 阿拉尔 …) carry Xinjiang's codes 6590xx but are
# the corps' own: the corps reviews them and they count against its quota.
CORPS_CITY_PREFIX = "6590"
CORPS_CODE = "660000"


def is_eligible_region(batch: Batch, region: Region) -> bool:
    """县级及以上城市（区）: prefectures and counties (districts, county-level
    cities, counties), and the 直辖市 themselves; a batch may narrow it to
    地级及以上. Provinces and the 兵团 as a whole are not cities."""
    if region.is_corps:
        return False
    if region.level == RegionLevel.PROVINCE:
        return region.code in MUNICIPALITIES
    if region.level == RegionLevel.PREFECTURE:
        return True
    return batch.eligible_level == EligibleLevel.COUNTY


def review_unit_for(region: Region) -> Region:
    """The provincial-level unit that reviews an application and whose quota
    it uses.

    The notice gives quotas to three kinds of unit: each province (省、自治区、
    直辖市, two), each 计划单列市 and the 兵团 (one each). A 计划单列市 reports
    directly, like a province, so a city or district inside 宁波 is reviewed
    by 宁波 and counts against 宁波's one place, not against 浙江's two; the
    兵团's cities (6590xx) are reviewed by the corps, not by 新疆.
    """
    if region.code.startswith(CORPS_CITY_PREFIX):
        corps = Region.objects.filter(code=CORPS_CODE).first()
        if corps is not None:
            return corps
    for city in Region.objects.filter(is_separate_plan_city=True):
        if region.code.startswith(city.prefix):
            return city
    province_code = region.code[:2] + "0000"
    return Region.objects.get(code=province_code)


def quota_for(batch: Batch, unit: Region) -> int:
    if unit.is_separate_plan_city or unit.is_corps:
        return batch.special_quota
    return batch.province_quota


@dataclass
class QuotaStatus:
    unit: Region
    quota: int
    used: int

    @property
    def remaining(self) -> int:
        return max(0, self.quota - self.used)


def quota_status(batch: Batch, unit: Region) -> QuotaStatus:
    used = ProvincialReview.objects.filter(
        batch=batch,
        review_region=unit,
        state__in=[ReviewState.RECOMMENDED, ReviewState.FORWARDED],
    ).count()
    return QuotaStatus(unit=unit, quota=quota_for(batch, unit), used=used)
