"""Invoice numbers: the two shapes the tax system issues, and every way a
pasted number can be wrong (no database)."""

from __future__ import annotations

import pytest

from chanrong.supplychain.invoices import InvoiceError, InvoiceRef, parse_invoice


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"code": "3300261130", "number": "01234567"}, InvoiceRef("3300261130", "01234567")),
        ({"code": "033002600111", "number": "00000042"}, InvoiceRef("033002600111", "00000042")),
        ("3300261130 01234567", InvoiceRef("3300261130", "01234567")),
        ("3300261130-01234567", InvoiceRef("3300261130", "01234567")),
        ("２６３３２０００００００００１２３４５６", InvoiceRef("", "26332000000000123456")),
        ("2633 2000 0000 0012 3456", InvoiceRef("", "26332000000000123456")),
        ({"number": "26332000000000123456"}, InvoiceRef("", "26332000000000123456")),
    ],
)
def test_well_formed_invoices_are_read(raw, expected):
    ref = parse_invoice(raw)
    assert ref == expected
    assert ref.digital == (expected.code == "")


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("1234567890123456789", "20 位"),  # a 数电票 number one digit short
        ("263320000000001234567", "20 位"),  # one too many
        ({"code": "330026113", "number": "01234567"}, "10 位或 12 位"),
        ({"code": "3300261130", "number": "1234567"}, "8 位"),
        ({"code": "33002611A0", "number": "01234567"}, "只能由数字组成"),
        ({"code": "0000000000", "number": "01234567"}, "全为 0"),
        ({"code": "3300261130", "number": "00000000"}, "全为 0"),
        ("00000000000000000000", "全为 0"),
        ("3300261130 0123 4567", "20 位"),  # three groups: read as a 数电票 number, 18 digits
        ({"code": "3300261130"}, "必填"),
        (12345678901234567890, "发票应为"),
        ("", "必填"),
    ],
)
def test_malformed_invoices_are_refused_with_the_rule_broken(raw, words):
    with pytest.raises(InvoiceError) as caught:
        parse_invoice(raw)
    assert words in str(caught.value)
