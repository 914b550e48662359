"""The green app's downloads (found by core.exporting's autodiscovery of
`imports` modules), audited by core.export_policy like every export."""

from django.utils.translation import gettext_lazy as _

from chanrong.core.exporting import Export, register_export

from .services.library_stats import export_stats

# 绿色融资统计 by catalogue category and region (/exports/green_library_stats/).
register_export(Export("green_library_stats", _("绿色融资统计（按绿色产业目录）"), export_stats))

# The carbon reports' file import (kind "green_carbon"), registered on import.
from . import imports_carbon  # noqa: E402, F401
