"""Plausible Chinese enterprise names for the registry benchmarks (deterministic)."""

from __future__ import annotations

import random

# Common characters of trade names (字号); two of them make one.
TRADE = (
    "华中国宏达鑫源恒泰盛丰瑞祥利隆昌新明光辉通联博创智远航金银海天正和永安康宁兴旺佳美"
    "嘉诚信德顺锦腾飞龙凤东西南北星月阳晨晟鼎立益众合力邦科技精工标准方圆三友万发富贵吉"
    "振宇宙江河湖山川林森峰岩石铭铖铭钧铂铁钢铝铜锐凯威豪杰英俊雅悦润泽清源汇融聚贤达"
)
BUSINESS = (
    "科技",
    "机械",
    "电子",
    "新材料",
    "纺织",
    "化工",
    "食品",
    "精密",
    "智能",
    "环保",
    "能源",
    "光电",
    "医药",
    "生物",
    "汽车零部件",
    "电器",
    "家具",
    "服饰",
    "建材",
    "塑料",
    "五金",
    "包装",
    "印染",
    "物流",
    "软件",
    "信息技术",
    "装备制造",
    "半导体",
    "新能源",
    "农业",
)
SUFFIX = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司")
PLACES = (
    "嘉善",
    "嘉兴",
    "杭州",
    "宁波",
    "温州",
    "绍兴",
    "湖州",
    "苏州",
    "无锡",
    "常州",
    "南京",
    "上海",
    "合肥",
    "厦门",
    "福州",
    "泉州",
    "重庆",
    "绵阳",
    "成都",
    "广州",
    "深圳",
    "东莞",
    "佛山",
    "青岛",
    "济南",
    "武汉",
    "长沙",
    "郑州",
    "西安",
    "天津",
    "北京",
    "石家庄",
    "沈阳",
    "大连",
    "昆明",
)


def enterprise_name(rng: random.Random) -> str:
    trade = rng.choice(TRADE) + rng.choice(TRADE)
    return f"{rng.choice(PLACES)}{trade}{rng.choice(BUSINESS)}{rng.choice(SUFFIX)}"
