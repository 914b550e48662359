"""中征应收账款 linkage in the demo (issue 19 item 4): what came back from the
中征 platform for the demo's receivables — for every second financing (in
registration-number order) the 中登网 registration number and 已确权, and for
the first confirmed receivable without financing 待确权 — as if a file had
been imported on the build day. Runs after the supplychain builder;
deterministic (no random draws), bulk writes, no per-row audit.
"""

from __future__ import annotations

from chanrong.supplychain.models import Financing, Receivable, ZhongzhengLink, ZhongzhengStatus

from .base import DemoContext

NAME = "zhongzheng"
MODELS = ("supplychain.zhongzhenglink",)


def build(ctx: DemoContext) -> None:
    links: dict[int, ZhongzhengLink] = {}
    financings = Financing.objects.order_by("registration_no").values_list(
        "receivable_id", "registration_no"
    )
    for index, (receivable_id, registration_no) in enumerate(financings):
        if index % 2 == 0 and receivable_id not in links:
            links[receivable_id] = ZhongzhengLink(
                receivable_id=receivable_id,
                registration_no=registration_no,
                status=ZhongzhengStatus.CONFIRMED,
                status_on=ctx.today,
            )
    unfinanced = (
        Receivable.objects.confirmed()
        .filter(financings__isnull=True)
        .order_by("contract_no", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if unfinanced is not None:
        links[unfinanced] = ZhongzhengLink(
            receivable_id=unfinanced, status=ZhongzhengStatus.PENDING, status_on=ctx.today
        )
    ZhongzhengLink.objects.bulk_create(links.values(), batch_size=ctx.batch_size)
    ctx.counts["zhongzheng_links"] = len(links)
