"""The 绿色产业指导目录 as reference data: loading an edition from its file,
and finding an edition's items.

An edition's file (chanrong/green/data/*.json) holds the edition (name,
issuer, 文号, date, source, what the file covers) and its items by code;
the level and the parent come from the code (1 → 1.1 → 1.1.1). Loading is
idempotent and keyed by code: loading the same edition again updates names
and adds items, never deletes one (an application may name it). A newer
edition (the 2024 绿色低碳转型产业指导目录) is a second file loaded beside
the first: editions never mix, each application names one edition's item.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core.errors import FieldError, ValidationFailed

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: The edition shipped with the platform and loaded by the migration.
DEFAULT_FILE = DATA_DIR / "green_industry_catalogue_2019.json"


def sort_key(code: str) -> str:
    return ".".join(f"{int(part):03d}" for part in code.split("."))


def read_edition(path: Path | str) -> dict[str, Any]:
    """The file's edition and items, checked: every code numeric and dotted,
    unique, its parent present, names given. Raises ValidationFailed naming
    the item by its position."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationFailed({"file": _("无法读取目录文件：%(e)s") % {"e": exc}}) from None
    errors: list[FieldError] = []
    edition = raw.get("edition") if isinstance(raw, dict) else None
    items = raw.get("items") if isinstance(raw, dict) else None
    if not isinstance(edition, dict) or not isinstance(items, list):
        raise ValidationFailed({"file": _("目录文件应包含 edition 和 items")})
    for key in ("code", "name", "issuer", "document_no", "source"):
        if not str(edition.get(key) or "").strip():
            errors.append(FieldError(f"edition.{key}", _("必填")))
    issued = edition.get("issued_on")
    if issued:
        try:
            date.fromisoformat(issued)
        except ValueError:
            errors.append(FieldError("edition.issued_on", _("日期格式应为 2019-02-14")))
    seen: set[str] = set()
    for n, item in enumerate(items, start=1):
        code = str((item or {}).get("code") or "").strip()
        name = str((item or {}).get("name") or "").strip()
        parts = code.split(".")
        if not code or not all(p.isdigit() for p in parts) or len(parts) > 3:
            errors.append(FieldError(f"items[{n}].code", _("编号应为 1、1.1 或 1.1.1 的形式")))
            continue
        if code in seen:
            errors.append(FieldError(f"items[{n}].code", _("编号重复：%(c)s") % {"c": code}))
        if len(parts) > 1 and ".".join(parts[:-1]) not in seen:
            errors.append(
                FieldError(f"items[{n}].code", _("上级分类 %(c)s 应列在前面") % {"c": code})
            )
        if not name or len(name) > 200:
            errors.append(FieldError(f"items[{n}].name", _("名称必填，最多 200 个字符")))
        seen.add(code)
    if errors:
        raise ValidationFailed(errors, message=_("目录文件有误，未载入任何条目"))
    return {"edition": edition, "items": items}


def load_edition(path: Path | str = DEFAULT_FILE, *, models=None) -> tuple[Any, int, int]:
    """Load (or refresh) an edition from its file in one transaction; returns
    (edition, items created, items updated). `models` is (Edition, Item) —
    the historical models when a migration calls this."""
    if models is None:
        from ..models import CatalogueEdition, CatalogueItem
    else:
        CatalogueEdition, CatalogueItem = models  # noqa: N806
    data = read_edition(path)
    head = data["edition"]
    with transaction.atomic():
        edition, _created = CatalogueEdition.objects.update_or_create(
            code=str(head["code"]).strip(),
            defaults={
                "name": head["name"].strip(),
                "issuer": head["issuer"].strip(),
                "document_no": head["document_no"].strip(),
                "issued_on": date.fromisoformat(head["issued_on"])
                if head.get("issued_on")
                else None,
                "source": head["source"].strip()[:500],
                "completeness": str(head.get("completeness") or "").strip()[:500],
            },
        )
        existing = {i.code: i for i in CatalogueItem.objects.filter(edition=edition)}
        created = updated = 0
        for item in data["items"]:
            code, name = item["code"].strip(), item["name"].strip()
            parent = existing.get(code.rsplit(".", 1)[0]) if "." in code else None
            row = existing.get(code)
            if row is None:
                row = CatalogueItem.objects.create(
                    edition=edition,
                    code=code,
                    name=name,
                    level=code.count(".") + 1,
                    parent=parent,
                    sort_key=sort_key(code),
                )
                existing[code] = row
                created += 1
            elif row.name != name:
                row.name = name
                row.save(update_fields=["name"])
                updated += 1
    return edition, created, updated


def current_edition():
    """The edition new applications use: the newest loaded."""
    from ..models import CatalogueEdition

    return CatalogueEdition.objects.order_by("-code").first()


def applicable_items(edition):
    """Items an application may name: every level-3 item, and the level-2
    categories with no level-3 item loaded (the file says which it lacks)."""
    from ..models import CatalogueItem

    items = CatalogueItem.objects.filter(edition=edition)
    return items.filter(level=3) | items.filter(level=2, children__isnull=True)


def code_known(code: str) -> bool | None:
    """Whether `code` is an item or category of any loaded edition (None when
    no edition is loaded): the check behind a loan's green category
    (finance.green_catalogue; the risk app never imports this one)."""
    from ..models import CatalogueEdition, CatalogueItem

    if CatalogueItem.objects.filter(code=code).exists():
        return True
    return False if CatalogueEdition.objects.exists() else None


def top_categories(edition):
    from ..models import CatalogueItem

    return CatalogueItem.objects.filter(edition=edition, level=1).order_by("sort_key")
