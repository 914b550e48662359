from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "chanrong.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from chanrong.core import health
        from chanrong.demands.signals import institution_events
        from chanrong.policy.signals import institution_events as policy_institution_events
        from chanrong.supplychain.signals import institution_events as supplychain_events

        from .checks import check_webhook_deliveries
        from .webhooks import on_institution_events

        # Events for institutions' own systems arrive as a domain signal from
        # the demands app and become webhook deliveries in the same transaction.
        institution_events.connect(
            on_institution_events, dispatch_uid="chanrong.api.webhooks.institution_events"
        )
        # … and from the policy app (a bank asked to confirm a loan for a subsidy).
        policy_institution_events.connect(
            on_institution_events, dispatch_uid="chanrong.api.webhooks.policy_institution_events"
        )
        # … and from the supply-chain app (receivables offered, financing, vouchers).
        supplychain_events.connect(
            on_institution_events, dispatch_uid="chanrong.api.webhooks.supplychain_events"
        )
        health.register_check(check_webhook_deliveries)
