"""Pipelines built through the services on the shared `world`: 嘉善县经信局
(`gov_jiashan`, `gov_jiashan_staff`) is responsible, `ent` (user
`ent_user`) and `ent2` (`ent2_user`) are 嘉善 enterprises. Services are
called with `today=TODAY` so that dates never depend on the day the tests run.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chanrong.listing import services
from chanrong.listing.models import PATH, Pipeline, Stage, final_stage

TODAY = date(2026, 6, 1)
#: 孵化 on START, each later stage 30 days after the one before.
START = date(2024, 1, 10)


def stage_data(stage: str, day: date, **over) -> dict:
    data = {"stage": stage, "reached_on": day, "document_no": f"DOC-{stage}"}
    if stage in (Stage.LISTED, Stage.QUOTED):
        data.update(stock_code="920123", proceeds="350000000.00")
    data.update(over)
    return data


def build_pipeline(
    world,
    enterprise=None,
    *,
    board="bse",
    upto: str = Stage.INCUBATION,
    start: date = START,
    user: str = "gov_jiashan_staff",
) -> Pipeline:
    """A pipeline of `enterprise` (default world.ent) advanced to `upto`."""
    actor = world.user(user)
    enterprise = enterprise or world.ent
    pipeline = services.create_pipeline(
        actor, {"enterprise": enterprise.uscc, "board": board, "reached_on": start}, today=TODAY
    )
    path = [*PATH, final_stage(board)]
    day = start
    for stage in path[1 : path.index(upto) + 1]:
        day += timedelta(days=30)
        services.advance(actor, pipeline, stage_data(stage, day), today=TODAY)
    return pipeline


@pytest.fixture
def build(world):
    def make(**kwargs) -> Pipeline:
        return build_pipeline(world, **kwargs)

    return make
