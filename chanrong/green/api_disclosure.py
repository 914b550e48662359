"""/api/v1/green endpoints of the disclosure subdomain (mounted by green/api.py)."""

from ninja import Router

router = Router()
