"""Every irreversible step asks first and says what will happen: each submit
button for one of these actions carries data-confirm (app.js turns it into
the browser's confirmation; tests/browser/test_policy_apply.py and
test_main_paths.py answer it).

The second test finds the steps by what they post to: every submit button of
a POST form whose URL name, URL arguments or data-action name a state
transition (approve, reject, withdraw, confirm, pay …, or a generic
`*_action` / `transition` endpoint) must carry data-confirm, unless
NO_CONFIRMATION lists it with the reason it is reversible or harmless."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "chanrong"
#: data-action values that cannot be undone by the one who clicks.
IRREVERSIBLE = {"publish", "accept", "submit-application", "open-batch", "confirm-submission"}
BUTTON = re.compile(r"<button\b[^>]*>", re.S)
ACTION = re.compile(r'data-action="([^"]+)"')


def test_every_irreversible_button_asks_first():
    checked, missing = 0, []
    templates = [p for p in PACKAGE.rglob("*.html") if "templates" in p.parts]
    for path in templates:
        for tag in BUTTON.findall(path.read_text(encoding="utf-8")):
            action = ACTION.search(tag)
            if action and action.group(1) in IRREVERSIBLE and 'type="submit"' in tag:
                checked += 1
                if "data-confirm=" not in tag:
                    missing.append(f"{path.relative_to(PACKAGE)}: {action.group(1)}")
    assert checked >= 8  # the scan found the buttons it is about
    assert missing == []


# --- every state-changing POST button, found by what it posts to ------------------------

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
SUBMIT = re.compile(r"<button\b([^>]*)>(.*?)</button>", re.S | re.I)
URL = re.compile(r"""\{%\s*url\s+['"]([\w:-]+)['"]([^%]*)%\}""")
LITERAL = re.compile(r"""'([\w-]+)'|"([\w-]+)"|(\{\{[^}]*\}\}|\b[a-z_]+\b)""")

#: Words of a state transition, in URL names, URL arguments and data-action values.
TRANSITION_WORDS = frozenset(
    [
        "approve",
        "reject",
        "publish",
        "submit",
        "open",
        "close",
        "cancel",
        "withdraw",
        "accept",
        "claim",
        "dispatch",
        "redispatch",
        "revoke",
        "delete",
        "remove",
        "discard",
        "verify",
        "confirm",
        "decline",
        "decide",
        "recommend",
        "conclude",
        "pay",
        "repay",
        "draw",
        "transfer",
        "split",
        "discount",
        "exit",
        "write_off",
        "recall",
        "renew",
        "return",
        "reopen",
        "reconsider",
        "dispute",
        "issue",
        "unpublish",
        "reassign",
        "rotate",
        "anonymise",
        "dispose",
        "build",
        "notify",
        "send",
        "push",
        "handle",
        "deactivate",
        "transition",
        "action",
    ]
)

#: (template, key) → why its button needs no confirmation. The key is the button's
#: data-action, else the form's URL name. Reversible or harmless steps only.
NO_CONFIRMATION: dict[tuple[str, str], str] = {
    ("content/templates/content/article_detail.html", "content:article_action withdraw"): (
        "back to draft: published again with one click"
    ),
    ("content/templates/content/ask.html", "submit"): (
        "a visitor sends a message they just wrote; nothing of theirs changes"
    ),
    (
        "content/templates/content/manage_consultation.html",
        "content:consultation_action unpublish",
    ): ("取消公开 hides an answer; 公开此问答 (confirmed) shows it again"),
    ("templates/accounts/otp_verify.html", "accounts:otp_verify"): "a sign-in step",
    ("templates/accounts/registration/enterprise.html", "submit-registration"): (
        "a new registration; the applicant can withdraw it from the status link"
    ),
    ("templates/accounts/registration/institution.html", "submit-registration"): (
        "a new registration; the applicant can withdraw it from the status link"
    ),
    ("templates/core/export_confirm.html", "export-confirm"): (
        "this page is itself the confirmation before an export"
    ),
    ("templates/core/inbox.html", "open"): "marks a message read and opens its object",
    ("templates/demands/dispatch_form.html", "demands:dispatch_form"): (
        "a full form page (offer, decline with reason, result) reached by a button: "
        "filling it in is the deliberate step"
    ),
    ("templates/policy/apply/claim.html", "preview"): "试算: computes, saves nothing",
    ("templates/policy/pools/claim_form.html", "file-claim"): (
        "a full form page; the claim then goes to the agency's review"
    ),
    ("templates/policy/pools/draw_form.html", "request-draw"): (
        "a full form page; the enterprise can withdraw the request until it is approved"
    ),
    ("templates/registry/version_detail.html", "{{ action }}"): (
        "提交审批, 撤回 and 重新编辑 of a draft version undo each other"
    ),
    ("templates/supplychain/vouchers/tree.html", "supplychain:split"): (
        "再加一份 adds a row to the split form; nothing is saved"
    ),
    ("templates/supplychain/vouchers/tree.html", "apply-discount"): (
        "a discount application the holder can withdraw until the bank accepts it"
    ),
    ("templates/webhooks/endpoint_detail.html", "deactivate"): "重新启用 undoes it",
    ("templates/risk/alerts.html", "acknowledge"): (
        "签收 records who handles the alert; 处置 (confirmed) closes it"
    ),
    **{
        ("templates/risk/consultation_detail.html", f"risk:consultation_action {step}"): (
            "a step inside an accepted 会商 that records input (召集 the parties, 提交 a "
            "party's position, 保存纪要, 登记 a follow-up); the binding steps 受理, 不予受理, "
            "形成意见, 办结 and 撤回 are confirmed"
        )
        for step in ("convene", "position", "meeting", "follow_up")
    },
    **{
        ("templates/risk/loan_detail.html", f"risk:loan_action {report}"): (
            "a filled-in report of the loan's status, collateral, green category, a "
            "repayment or a pledge; the next report corrects it. 提前收回, 续贷 and 核销 "
            "are confirmed"
        )
        for report in ("status", "collateral", "green", "pledge", "repayment")
    },
    ("templates/exchange/home.html", "exchange:push"): (
        "立即报送 sends the batches already queued sooner; they go on the next retry anyway"
    ),
    ("templates/green/disclosure/list.html", "green:disclosure_open"): (
        "opens (creates) the year's draft form; nothing is submitted"
    ),
}


def _posting_buttons():
    """(template, key, words, button attributes) for each submit button of a POST form."""
    for path in sorted(p for p in PACKAGE.rglob("*.html") if "templates" in p.parts):
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(PACKAGE))
        for form_attrs, body in FORM.findall(text):
            if 'method="post"' not in form_attrs.lower():
                continue
            url = URL.search(form_attrs)
            url_name, url_args = (url.group(1), url.group(2)) if url else ("", "")
            literals = ["".join(m) for m in LITERAL.findall(url_args)]
            for attrs, _label in SUBMIT.findall(body):
                if 'type="button"' in attrs:
                    continue
                action = ACTION.search(attrs)
                quoted = [m[0] or m[1] for m in LITERAL.findall(url_args) if m[0] or m[1]]
                key = action.group(1) if action else " ".join([url_name, *quoted[:1]])
                words = {url_name.rsplit(":", 1)[-1], *literals, key}
                words |= {part for word in list(words) for part in re.split(r"[-_:]", word)}
                dynamic = any("{{" in w for w in words)
                yield name, key, words, dynamic, attrs + form_attrs


def test_every_state_changing_post_button_asks_first():
    checked, missing, needless = 0, [], []
    for name, key, words, dynamic, attrs in _posting_buttons():
        if not (dynamic or words & TRANSITION_WORDS):
            continue
        checked += 1
        confirmed = "data-confirm=" in attrs
        if (name, key) in NO_CONFIRMATION:
            if confirmed:
                needless.append(f"{name}: {key}")
        elif not confirmed:
            missing.append(f"{name}: {key}")
    assert checked >= 100  # the scan found the buttons it is about
    assert missing == [], "add data-confirm stating the consequence, or a reason below"
    assert needless == []  # an allow-listed button that confirms anyway: drop the entry
