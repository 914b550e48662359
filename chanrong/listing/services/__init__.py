"""Business rules of 上市培育, one module per subdomain:

common     input helpers (dates not in the future, amounts in 元, the agency)
pipelines  open a pipeline, record each stage (the PIPELINE workflow), withdraw
reserve    the 上市后备库 list kept in step, proposed through the registry's services
stats      counts by stage and year, the indicator system's figures
"""

from .pipelines import actions, advance, create_pipeline, get_visible_pipeline, withdraw

__all__ = ["actions", "advance", "create_pipeline", "get_visible_pipeline", "withdraw"]
