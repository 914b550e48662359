"""The 信用报告 as a PDF a bank can file (reportlab, see docs/architecture.md).

Chinese text is set in reportlab's built-in CID font STSong-Light (Adobe's
Asian font pack is referenced, not embedded: no font file on the server).
The content is the same `CreditReport` the page shows, plus the generation
time, the requesting organisation and the footer on every page.
"""

from __future__ import annotations

from io import BytesIO

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .services.credit_report import CreditReport, adverse_label

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=24, alignment=1),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=12, leading=18, spaceBefore=8),
        "body": ParagraphStyle("body", fontName=font, fontSize=9, leading=13),
    }


def _esc(value) -> str:
    text = "—" if value in (None, "") else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: list[list], widths: list[float], body: ParagraphStyle) -> Table:
    cells = [[Paragraph(_esc(cell), body) for cell in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def render_pdf(report: CreditReport) -> bytes:
    styles = _styles()
    body = styles["body"]
    facts = report.facts
    generated = timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M:%S")
    story: list = [
        Paragraph(_esc(f"企业信用报告 · {facts['name']}"), styles["title"]),
        Spacer(1, 4 * mm),
        Paragraph(_esc(f"生成时间：{generated}　查询机构：{report.requested_by}"), body),
        Paragraph("一、基本信息", styles["h2"]),
        _table(
            [
                ["企业名称", facts["name"], "统一社会信用代码", facts["uscc"]],
                ["所在地区", facts["region"], "所属行业", facts["industry"]],
                ["企业规模", facts["size"], "成立日期", facts["founded_on"]],
                ["法定代表人", facts["legal_representative"], "", ""],
            ],
            [28 * mm, 57 * mm, 32 * mm, 57 * mm],
            body,
        ),
        Paragraph("二、概要", styles["h2"]),
        Paragraph(_esc(f"{adverse_label(report)}；信用信息共 {report.total} 条。"), body),
        _table(
            [[s.label for s in report.sections], [s.count for s in report.sections]],
            [174 * mm / len(report.sections)] * len(report.sections),
            body,
        ),
    ]
    for title, latest in (
        ("最近一次行政处罚", report.latest_penalty),
        ("最近一次司法判决", report.latest_judgment),
    ):
        text = (
            f"{title}：{latest.occurred_on:%Y-%m-%d} {latest.source} {latest.reference} {latest.summary}"
            if latest
            else f"{title}：无"
        )
        story.append(Paragraph(_esc(text), body))
    story.append(Paragraph("三、有效资质", styles["h2"]))
    story.append(
        _table(
            [["资质类型", "认定机构", "证书编号", "生效日期", "有效期至"]]
            + [
                [q["kind"], q["issuer"], q["certificate_no"], q["valid_from"], q["valid_until"]]
                for q in report.qualifications
            ],
            [34 * mm, 50 * mm, 36 * mm, 27 * mm, 27 * mm],
            body,
        )
    )
    story.append(Paragraph("四、名单（含红黑名单）", styles["h2"]))
    story.append(
        _table(
            [["名单类型", "名单名称", "生效日期", "失效日期"]]
            + [
                [e["list_type_label"], e["name"], e["effective_from"], e["effective_until"]]
                for e in report.lists
            ],
            [44 * mm, 76 * mm, 27 * mm, 27 * mm],
            body,
        )
    )
    story.append(Paragraph("五、纳税信用等级", styles["h2"]))
    story.append(
        _table(
            [["评价年度", "等级"]] + [[g["year"], g["grade"]] for g in report.tax_grades],
            [40 * mm, 40 * mm],
            body,
        )
    )
    story.append(Paragraph("六、信用信息明细", styles["h2"]))
    for section in report.sections:
        story.append(Paragraph(_esc(f"{section.label}（{section.count} 条）"), body))
        if section.records:
            story.append(
                _table(
                    [["发生日期", "来源机构", "文书/记录编号", "内容摘要", "金额（元）"]]
                    + [
                        [
                            r.occurred_on,
                            r.source,
                            r.reference,
                            f"{r.summary}（{r.severity}）" if r.severity else r.summary,
                            r.amount,
                        ]
                        for r in section.records
                    ],
                    [22 * mm, 38 * mm, 36 * mm, 52 * mm, 26 * mm],
                    body,
                )
            )
        story.append(Spacer(1, 2 * mm))

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(_font(), 8)
        canvas.drawString(18 * mm, 10 * mm, report.footer)
        canvas.drawRightString(192 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"企业信用报告 {facts['uscc']}",
        author=report.requested_by,
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
