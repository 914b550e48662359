"""供应链金融 pages (mounted at /supplychain/). Route names are stable."""

from django.urls import path

from .views import (
    attachments,
    chains,
    discounts,
    financing,
    home,
    receivables,
    stats,
    vouchers,
    zhongzheng,
)

app_name = "supplychain"

urlpatterns = [
    path("", home.home, name="home"),
    path("chains/", chains.chain_list, name="chains"),
    path("chains/<int:pk>/", chains.chain_detail, name="chain"),
    path("chains/<int:pk>/members/", chains.member_add, name="member_add"),
    path("members/<int:pk>/remove/", chains.member_remove, name="member_remove"),
    path("chains/<int:pk>/measures/", chains.measure_add, name="measure_add"),
    path("receivables/", receivables.receivable_list, name="receivables"),
    path("receivables/new/", receivables.register, name="receivable_new"),
    path("receivables/new/invoice-row/", receivables.invoice_row, name="invoice_row"),
    path("receivables/inbox/", receivables.inbox, name="inbox"),
    path("receivables/<int:pk>/", receivables.receivable_detail, name="receivable"),
    path("receivables/<int:pk>/confirm/", receivables.confirm, name="confirm"),
    path("receivables/<int:pk>/dispute/", receivables.dispute, name="dispute"),
    path("receivables/<int:pk>/withdraw/", receivables.withdraw, name="withdraw"),
    path("receivables/<int:pk>/voucher/", receivables.issue_voucher, name="issue_voucher"),
    path("receivables/<int:pk>/finance/", financing.finance, name="finance"),
    path("receivables/<int:pk>/attachments/", attachments.upload, name="attachment_upload"),
    path("attachments/<int:pk>/", attachments.download, name="attachment"),
    path("attachments/<int:pk>/remove/", attachments.remove, name="attachment_remove"),
    path("bank/", financing.bank, name="bank"),
    path("financings/<int:pk>/repay/", financing.repay, name="repay"),
    path("vouchers/", vouchers.voucher_list, name="vouchers"),
    path("vouchers/<int:pk>/", vouchers.voucher_detail, name="voucher"),
    path("vouchers/<int:pk>/transfer/", vouchers.transfer, name="transfer"),
    path("vouchers/<int:pk>/split/", vouchers.split, name="split"),
    path("vouchers/<int:pk>/discount/", vouchers.discount, name="discount"),
    path("vouchers/<int:pk>/pay/", vouchers.pay, name="pay"),
    path("vouchers/<int:pk>/apply-discount/", discounts.apply, name="apply_discount"),
    path("discount-applications/", discounts.application_list, name="discount_applications"),
    path(
        "discount-applications/<int:pk>/",
        discounts.application_detail,
        name="discount_application",
    ),
    path(
        "discount-applications/<int:pk>/accept/",
        discounts.accept,
        name="accept_discount_application",
    ),
    path(
        "discount-applications/<int:pk>/decline/",
        discounts.decline,
        name="decline_discount_application",
    ),
    path(
        "discount-applications/<int:pk>/withdraw/",
        discounts.withdraw,
        name="withdraw_discount_application",
    ),
    path("stats/", stats.stats_page, name="stats"),
    path("zhongzheng/", zhongzheng.linkage, name="zhongzheng"),
    path("zhongzheng/export.<str:fmt>", zhongzheng.export, name="zhongzheng_export"),
]
