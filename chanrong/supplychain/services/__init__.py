"""The supply-chain app's services, by subdomain: chains, receivables
(registration, 确权, dispute), financing (the double-financing guard) and
digital payables vouchers."""

from .attachments import (
    add_attachment,
    add_attachments,
    register_with_attachments,
    remove_attachment,
    visible_attachment,
)
from .chains import add_measure, add_member, create_chain, memberships, remove_member
from .common import is_listed_core
from .discount_applications import (
    accept_discount_application,
    apply_for_discount,
    authorised_banks,
    decline_discount_application,
    withdraw_discount_application,
)
from .financing import finance, financing_payload, mark_overdue, repay
from .offers import offered_receivables, offered_vouchers
from .receivables import confirm, dispute, receivable_payload, register_receivable, withdraw
from .vouchers import (
    TreeCheck,
    check_tree,
    discount_voucher,
    issue_voucher,
    pay_vouchers,
    split_voucher,
    transfer_voucher,
    voucher_payload,
)

__all__ = [
    "TreeCheck",
    "accept_discount_application",
    "add_attachment",
    "add_attachments",
    "apply_for_discount",
    "authorised_banks",
    "decline_discount_application",
    "register_with_attachments",
    "remove_attachment",
    "visible_attachment",
    "withdraw_discount_application",
    "add_measure",
    "add_member",
    "check_tree",
    "confirm",
    "create_chain",
    "discount_voucher",
    "dispute",
    "finance",
    "financing_payload",
    "is_listed_core",
    "issue_voucher",
    "mark_overdue",
    "memberships",
    "offered_receivables",
    "offered_vouchers",
    "pay_vouchers",
    "receivable_payload",
    "register_receivable",
    "remove_member",
    "repay",
    "split_voucher",
    "transfer_voucher",
    "voucher_payload",
    "withdraw",
]
