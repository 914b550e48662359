"""Web views of the policy app, one module per page family."""

from .applications import application_detail

__all__ = ["application_detail"]
