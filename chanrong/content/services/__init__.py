"""The public side's rules: articles and FAQ (articles.py), consultations
(consultations.py). Views, API and the demo call these."""

from .articles import (
    delete_faq,
    faq_by_category,
    get_managed_article,
    get_managed_faq,
    public_articles,
    public_faq,
    publish_article,
    save_article,
    save_faq,
    withdraw_article,
)
from .consultations import Throttled

__all__ = [
    "Throttled",
    "delete_faq",
    "faq_by_category",
    "get_managed_article",
    "get_managed_faq",
    "public_articles",
    "public_faq",
    "publish_article",
    "save_article",
    "save_faq",
    "withdraw_article",
]
