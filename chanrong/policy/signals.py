"""What the policy app tells higher apps (the api assembly). See chanrong.core.domain.

- `institution_events` (in the transaction): events for institutions' own
  systems — "policy.confirmation_requested" when a bank is asked to confirm a
  loan's facts for an application; the api app turns them into webhook
  deliveries in the same transaction.
"""

from chanrong.core.domain import InTransactionSignal

#: kwargs: events=[(institution_id, event_name, payload), …]
institution_events = InTransactionSignal("policy.institution_events")
