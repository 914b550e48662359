"""What the demands app tells higher apps. See chanrong.core.domain.

- `demands_changed` (after commit): a demand was edited or published, or
  otherwise changed what it may be matched with. Not for a new draft,
  which has nothing matched yet.
- `institution_events` (in the transaction): events for institutions' own
  systems; the api app turns them into webhook deliveries in the same
  transaction, so an event is recorded exactly when the change is.
- `financing_disbursed` (in the transaction): a loan was reported disbursed;
  the insights app records the financing fact (counted once per `source_ref`),
  the risk app opens the loan-book record.
"""

from chanrong.core.domain import AfterCommitSignal, InTransactionSignal

demands_changed = AfterCommitSignal("demands.demands_changed")

#: kwargs: events=[(institution_id, event_name, payload), …]
institution_events = InTransactionSignal("demands.institution_events")

#: kwargs: region, institution, amount, on, industry, enterprise, source_ref, actor, demand
#: (receivers take what they need and ignore the rest)
financing_disbursed = InTransactionSignal("demands.financing_disbursed")
