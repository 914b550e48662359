"""Starting points a new batch is created with; both are edited per batch.

The 编制提纲 (附件1 of the notice) is not published with the notice's text,
so the default outline follows the chapters the second-batch plans were
written in (嘉善县实施方案 2021—2023, seed 004); the third-batch plans
(厦门, seed 003) use the later outline in THIRD_BATCH_OUTLINE. The default
rubric scores the notice's 申报条件 (一)–(三) and the plan itself.
"""

from __future__ import annotations

from decimal import Decimal

DEFAULT_OUTLINE: list[dict[str, str]] = [
    {
        "key": "guiding-thought",
        "title": "指导思想",
        "guidance": "贯彻国家部署，结合本地国民经济和社会发展规划，说明试点工作的主题和方向。",
    },
    {
        "key": "principles",
        "title": "基本原则",
        "guidance": "如市场主导与政府引导、产业为本与金融为用、创新驱动、部门协同等。",
    },
    {
        "key": "goals",
        "title": "工作目标",
        "guidance": "实施期末的总体目标和具体目标，与定量指标统计表中的年度目标一致。",
    },
    {
        "key": "tasks",
        "title": "主要任务",
        "guidance": "分领域列出重点任务，每项任务写明责任单位。",
    },
    {
        "key": "safeguards",
        "title": "工作保障",
        "guidance": "组织领导、绩效督查、资金与政策保障、氛围营造等。",
    },
]

THIRD_BATCH_OUTLINE: list[dict[str, str]] = [
    {
        "key": "basis",
        "title": "产融合作基础",
        "guidance": "保障措施、产业与金融协调发展情况、支持制造业发展的政策与成效。",
    },
    {
        "key": "approach",
        "title": "试点总体思路",
        "guidance": "总体思路与基本原则。",
    },
    {
        "key": "goals",
        "title": "试点目标",
        "guidance": "总体目标与分年度目标。",
    },
    {
        "key": "content",
        "title": "试点内容",
        "guidance": "重点任务及责任单位。",
    },
    {
        "key": "safeguards",
        "title": "组织保障措施",
        "guidance": "组织协调、政策支持、督促评估、宣传推广。",
    },
]

DEFAULT_RUBRIC: list[dict[str, object]] = [
    {
        "name": "组织保障与政策保障",
        "description": "列入本地重点工作，建立工作机制，安排专项资金，积极参与国家产融合作平台建设。",
        "max_score": Decimal("25"),
    },
    {
        "name": "产业基础与金融资源",
        "description": "产业基础能力、产业链水平、金融资源与金融科技条件、普惠金融和绿色金融成效、风险防范。",
        "max_score": Decimal("25"),
    },
    {
        "name": "产融合作做法与成效",
        "description": "金融支持制造业力度、重点领域产融合作成效、工业大数据赋能产融合作。",
        "max_score": Decimal("30"),
    },
    {
        "name": "实施方案质量",
        "description": "目标明确、任务具体可行、定量指标合理、保障措施有力。",
        "max_score": Decimal("20"),
    },
]
