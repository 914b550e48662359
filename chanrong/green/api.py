"""/api/v1/green: one router that mounts each subdomain's."""

from ninja import Router

from .api_carbon import router as carbon
from .api_disclosure import router as disclosure
from .api_library import router as library

router = Router(tags=["green"])
router.add_router("", library)
router.add_router("", carbon)
router.add_router("", disclosure)
