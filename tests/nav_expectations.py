"""The menu each role sees, in order: one table for the page tests and the browser test."""

GOV_ADMIN = [
    "home",
    "enterprises",
    "institutions",
    "projects",
    "lists",
    "operating_review",
    "products",
    "demands",
    "supervision",
    "events",
    "insights",
    "indicator_plans",
    "indicator_report",
    "pilots",
    "imports",
    "audit",
]
BANK = [
    "home",
    "enterprises",
    "institutions",
    "projects",
    "lists",
    "products",
    "workbench",
    "events",
]
NAV = {
    "admin": [
        "home",
        "enterprises",
        "institutions",
        "projects",
        "lists",
        "operating_review",
        "products",
        "demands",
        "supervision",
        "events",
        "insights",
        "indicator_plans",
        "pilots",
        "tokens",
        "webhooks",
        "imports",
        "audit",
        "admin",
    ],
    "gov_national": GOV_ADMIN,
    "gov_jiashan": GOV_ADMIN,
    "gov_jiashan_staff": [k for k in GOV_ADMIN if k != "audit"],
    "bank_manager": [*BANK, "tokens", "webhooks"],
    "bank_staff": BANK,
    "ent_user": [
        "home",
        "my_enterprise",
        "projects",
        "lists",
        "products",
        "demands",
        "events",
    ],
}
NAV["gov_zhejiang"] = NAV["gov_national"]
NAV["bank2_staff"] = NAV["bank_staff"]
NAV["ent2_user"] = NAV["ent_user"]
