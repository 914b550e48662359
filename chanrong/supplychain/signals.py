"""What the supply-chain app tells higher apps. See chanrong.core.domain.

- `institution_events` (in the transaction): events for banks' own systems,
  kwargs `events=[(institution_id, event_name, payload), …]`:
  "supplychain.receivable_confirmed" to each bank the creditor has authorised
  (the receivable is now offered to it), "supplychain.financing_created",
  "supplychain.financing_repaid", "supplychain.financing_overdue" to the
  financing bank, "supplychain.voucher_discounted" to the discounting bank.
  The api app may turn them into webhook deliveries in the same transaction.
- `receivables_changed` (after commit): ids of creditor enterprises whose
  confirmed receivables or vouchers changed (matching re-ranks their
  receivable-backed products).
"""

from chanrong.core.domain import AfterCommitSignal, InTransactionSignal

#: kwargs: events=[(institution_id, event_name, payload), …]
institution_events = InTransactionSignal("supplychain.institution_events")

#: ids: enterprises (creditors / holders) whose financeable receivables changed.
receivables_changed = AfterCommitSignal("supplychain.receivables_changed")
