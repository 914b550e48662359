"""The green app's models, one module per subdomain, each imported here so
Django finds it."""

from .carbon import *  # noqa: F403
from .disclosure import *  # noqa: F403
from .library import *  # noqa: F403
