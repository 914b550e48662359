"""What the finance app tells higher apps. See chanrong.core.domain."""

from chanrong.core.domain import AfterCommitSignal

#: A product was edited or moved through its workflow (its eligibility may differ).
products_changed = AfterCommitSignal("finance.products_changed")
