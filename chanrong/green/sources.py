"""The green app's figures for the indicator system (insights.sources)."""


def register_sources() -> None:
    """Register the green figures with insights (insights never imports this app)."""
