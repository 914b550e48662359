"""The 绿色产业指导目录（2019年版） complete: 211 third-level items, checked
against the original (the file's `verified_against`), where 0002 loaded the
142 written from memory.

Ten of those 142 sat under the wrong code (3.2.6–3.2.9 and 5.2.2–5.2.7 were
shifted: 3.2.6 煤层气 and 5.2.2 岸电, 5.2.5 充电 were missing). Loading the
corrected file by code alone would rename those rows in place, and an
application that chose "3.2.6 地热能利用设施建设和运营" would silently become
a 煤层气 application. So, before loading, each such row is moved to the code
the original gives its name (the application keeps the row it chose, now
under the right code), highest code first so no two rows meet on a code.
"5.2.5 城乡公共客运和货运配送车辆" is no item of this edition: applications
naming it move to 5.2.7 城乡公共交通系统建设和运营 (which covers 公交车辆购买),
each move audited, and the row goes. A row is only touched when it still has
the old (code, name) pair, so running this on a database already corrected by
`load_green_catalogue` changes nothing but what the file adds.
"""

from django.db import migrations

#: (code in the 142-item file, its name there, the code the original gives it).
#: In this order: each target code is free (or freed by an earlier step).
RECODE = (
    ("3.2.9", "热泵设施建设和运营", "3.2.10"),
    ("3.2.8", "氢能利用设施建设和运营", "3.2.9"),
    ("3.2.7", "海洋能利用设施建设和运营", "3.2.8"),
    ("3.2.6", "地热能利用设施建设和运营", "3.2.7"),
    ("5.2.7", "共享交通设施建设和运营", "5.2.8"),
    ("5.2.6", "城市公共交通建设和运营", "5.2.7"),
    ("5.2.5", "城乡公共客运和货运配送车辆", "5.2.7"),
    ("5.2.4", "城市慢行系统建设和运营", "5.2.6"),
    ("5.2.3", "智能交通体系建设和运营", "5.2.4"),
    ("5.2.2", "集装箱多式联运系统建设和运营", "5.2.3"),
)


def _sort_key(code: str) -> str:
    return ".".join(f"{int(part):03d}" for part in code.split("."))


def _merge(Application, row, target) -> None:  # noqa: N803
    """Point the applications naming `row` at `target` (audited), drop `row`."""
    from chanrong.core import audit

    for app in Application.objects.filter(item=row):
        app.item = target
        app.save(update_fields=["item"])
        audit.record(
            "green.library.item_corrected",
            object_type="green.libraryapplication",
            object_id=app.pk,
            object_repr=f"LibraryApplication {app.pk}",
            changes={"item": [f"{row.code} {row.name}", f"{target.code} {target.name}"]},
        )
    row.delete()


def forward(apps, schema_editor):
    from chanrong.green.services.catalogue import DEFAULT_FILE, load_edition

    Edition = apps.get_model("green", "CatalogueEdition")  # noqa: N806
    Item = apps.get_model("green", "CatalogueItem")  # noqa: N806
    Application = apps.get_model("green", "LibraryApplication")  # noqa: N806
    edition = Edition.objects.filter(code="2019").first()
    if edition is not None:
        for old_code, old_name, new_code in RECODE:
            row = Item.objects.filter(edition=edition, code=old_code, name=old_name).first()
            if row is None:
                continue
            target = Item.objects.filter(edition=edition, code=new_code).first()
            if target is not None:
                _merge(Application, row, target)
                continue
            row.code = new_code
            row.sort_key = _sort_key(new_code)
            row.save(update_fields=["code", "sort_key"])
    load_edition(DEFAULT_FILE, models=(Edition, Item))


class Migration(migrations.Migration):
    dependencies = [
        ("green", "0005_disclosure"),
        ("core", "0003_audit_unsealed_entries"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
