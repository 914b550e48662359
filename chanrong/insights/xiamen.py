"""厦门's yearly targets (seed 003, 分年度目标) as a second indicator plan.

厦门's plan prints no 定量指标表; its targets are sentences under each year.
Each target below matches an indicator of the catalogue and quotes the words
it comes from (data/xiamen_2024_2026.txt holds the text verbatim; the tests
check every quote is in it and carries the number). Targets the catalogue
has no indicator for (入驻企业 6.3 万个, 首贷户数, 专精特新企业贷款余额,
科技信贷, 科创引导基金规模) or that are cumulative since the platforms began
(累计完成 8.6 万 / 9 万笔融资, 累计融资额 1140 / 1200 亿元, 绿色库累计提供融资支持
400 亿元 — the catalogue's 平台融资额/笔数 and 绿色融资额 are yearly flows) are left out, as docs/indicators.md says.
"""

from __future__ import annotations

from typing import NamedTuple

from django.db import transaction

from chanrong.core.models import Region

from .models import IndicatorPlan
from .tables import DATA_DIR

XIAMEN_TEXT = DATA_DIR / "xiamen_2024_2026.txt"
XIAMEN_REGION = "350200"
XIAMEN_TITLE = "厦门市国家产融合作试点城市建设定量指标（2024—2026年）"
XIAMEN_YEARS = (2024, 2026)


class XiamenTarget(NamedTuple):
    code: str
    year: int
    value: str
    second_value: str | None
    quote: str


TARGETS: tuple[XiamenTarget, ...] = (
    XiamenTarget("manufacturing-loans", 2024, "2500", None, "制造业贷款余额超过2500亿元"),
    XiamenTarget(
        "manufacturing-long-term-loans", 2024, "1300", None, "制造业中长期贷款余额超过1300亿元"
    ),
    XiamenTarget(
        "equity-funds",
        2025,
        "90",
        "1500",
        "各类产业投资基金、创业投资基金等基金数量超90只,基金规模达到1500亿元",
    ),
    XiamenTarget("green-credit", 2025, "2000", None, "绿色信贷余额达到2000亿元"),
    XiamenTarget("green-library-enterprises", 2025, "230", None, "平台入库绿色企业数量突破230家"),
    XiamenTarget("green-library-projects", 2025, "50", None, "入库项目突破50项"),
    XiamenTarget("matching-events", 2026, "12", None, "组织12场银企对接活动"),
    XiamenTarget("matching-event-financing", 2026, "2", None, "实现融资额突破2亿元"),
)


def xiamen_text() -> str:
    return XIAMEN_TEXT.read_text(encoding="utf-8")


def load_xiamen_plan(actor) -> IndicatorPlan:
    """Create 厦门's plan (2024–2026) with the targets above, through the same
    services as any plan (checked, audited)."""
    from .services import create_plan, set_targets

    region = Region.objects.get(code=XIAMEN_REGION)
    with transaction.atomic():
        plan = create_plan(actor, region, XIAMEN_TITLE, *XIAMEN_YEARS)
        set_targets(
            actor,
            plan,
            [
                {
                    "definition": t.code,
                    "year": t.year,
                    "value": t.value,
                    "second_value": t.second_value,
                }
                for t in TARGETS
            ],
        )
    return plan
