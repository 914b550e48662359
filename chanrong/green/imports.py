"""The green app's file imports and downloads (found by autodiscovery of
`imports` modules)."""

# The carbon reports' file import (kind "green_carbon"), registered on import.
from . import imports_carbon  # noqa: F401
