"""What an enterprise may report in a carbon report, and in which units.

Each item names the factor code it is computed with, its scope (1: direct
emissions from fuels burnt and industrial processes; 2: purchased
electricity and heat) and the units it may be entered in, each with its
multiplier into the factor's unit. A unit not listed for an item is refused
(100 t of natural gas is a mistake, not a conversion). 其中绿色电力 is the
part of the purchased electricity bought as green power (绿电交易 / 绿证): it
is deducted from the purchased electricity at the same grid factor.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    scope: int
    factor_code: str
    unit: str  # the factor's unit
    units: dict[str, Decimal]  # entered unit -> multiplier into `unit`
    deducted: bool = False  # counted with a negative sign (green electricity)

    @property
    def unit_choices(self) -> list[str]:
        return list(self.units)


_TONNES = {"t": Decimal(1), "吨": Decimal(1), "万t": Decimal(10000), "kg": Decimal("0.001")}
_POWER = {"MWh": Decimal(1), "万kWh": Decimal(10), "kWh": Decimal("0.001")}


def _fuel(code: str, label) -> Item:
    return Item(code, label, 1, code, "t", _TONNES)


ITEMS: dict[str, Item] = {
    item.code: item
    for item in (
        _fuel("raw_coal", _("原煤")),
        _fuel("anthracite", _("无烟煤")),
        _fuel("bituminous", _("烟煤")),
        _fuel("coke", _("焦炭")),
        _fuel("fuel_oil", _("燃料油")),
        _fuel("diesel", _("柴油")),
        _fuel("gasoline", _("汽油")),
        _fuel("lpg", _("液化石油气")),
        Item(
            "natural_gas",
            _("天然气"),
            1,
            "natural_gas",
            "万Nm3",
            {"万Nm3": Decimal(1), "Nm3": Decimal("0.0001"), "m3": Decimal("0.0001")},
        ),
        Item("clinker", _("水泥熟料产量"), 1, "clinker", "t", _TONNES),
        Item("lime", _("石灰产量"), 1, "lime", "t", _TONNES),
        Item("limestone", _("石灰石（熔剂）消耗"), 1, "limestone", "t", _TONNES),
        Item("grid_electricity", _("外购电力"), 2, "grid_electricity", "MWh", _POWER),
        Item(
            "green_electricity",
            _("其中：绿色电力"),
            2,
            "grid_electricity",
            "MWh",
            _POWER,
            deducted=True,
        ),
        Item("heat", _("外购热力"), 2, "heat", "GJ", {"GJ": Decimal(1), "MJ": Decimal("0.001")}),
    )
}

#: Aliases a file may use for an item (the import reads them).
ALIASES: dict[str, str] = {
    **{str(item.label): code for code, item in ITEMS.items()},
    "煤": "raw_coal",
    "煤炭": "raw_coal",
    "电力": "grid_electricity",
    "外购电": "grid_electricity",
    "用电量": "grid_electricity",
    "绿电": "green_electricity",
    "绿色电力": "green_electricity",
    "LPG": "lpg",
    "热力": "heat",
    "熟料": "clinker",
    "石灰": "lime",
    "石灰石": "limestone",
}


def item_choices() -> list[tuple[str, str]]:
    return [(code, str(item.label)) for code, item in ITEMS.items()]
