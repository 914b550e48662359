"""The pipeline's transition table and every refusal of bad input, by field,
through the services (the API and pages only translate these)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.listing import services
from chanrong.listing.models import PATH, Pipeline, Stage, StageRecord
from chanrong.listing.workflows import PIPELINE
from chanrong.registry.models import Qualification, QualificationKind

from .conftest import START, TODAY, stage_data

pytestmark = pytest.mark.django_db


def fields(exc: ValidationFailed) -> set[str]:
    return {e.field for e in exc.errors}


def test_table_moves_one_step_forward_and_withdraws_only_before_the_last():
    for index, stage in enumerate(PATH[1:], start=1):
        assert PIPELINE.transitions[stage].source == frozenset({PATH[index - 1]})
    assert PIPELINE.transitions[Stage.LISTED].source == frozenset({Stage.REVIEW})
    assert PIPELINE.transitions[Stage.QUOTED].source == frozenset({Stage.REVIEW})
    withdraw = PIPELINE.transitions["withdraw"]
    assert withdraw.source == frozenset(PATH)
    assert Stage.LISTED not in withdraw.source and Stage.QUOTED not in withdraw.source


def test_full_path_to_listing_records_every_stage_audits_notifies_and_adds_the_qualification(
    world, build
):
    pipeline = build(upto=Stage.LISTED)
    pipeline.refresh_from_db()
    assert pipeline.stage == Stage.LISTED
    assert pipeline.stock_code == "920123"
    assert str(pipeline.proceeds) == "350000000.00"
    assert pipeline.listed_on == START + timedelta(days=150)
    assert list(
        StageRecord.objects.filter(pipeline=pipeline)
        .order_by("reached_on")
        .values_list("stage", flat=True)
    ) == [*PATH, Stage.LISTED]
    actions = set(
        AuditEntry.objects.filter(object_id=str(pipeline.pk)).values_list("action", flat=True)
    )
    assert {
        "listing.pipeline.create",
        "listing.pipeline.listed",
        "listing.pipeline.tutoring",
    } <= actions
    assert Notification.objects.filter(recipient=world.user("ent_user")).count() == 6
    q = Qualification.objects.get(enterprise=world.ent, kind=QualificationKind.LISTED)
    assert (q.board, q.certificate_no, q.valid_from) == ("bse", "920123", pipeline.listed_on)
    assert q.issuer == "北京证券交易所" and q.is_verified


def test_stage_out_of_order_is_refused_by_field(world, build):
    pipeline = build(upto=Stage.SHAREHOLDING)
    with pytest.raises(ValidationFailed) as exc:
        services.advance(
            world.user("gov_jiashan"), pipeline, stage_data(Stage.FILING, TODAY), today=TODAY
        )
    assert fields(exc.value) == {"stage"}
    with pytest.raises(ValidationFailed) as exc:
        services.advance(
            world.user("gov_jiashan"), pipeline, stage_data(Stage.INCUBATION, TODAY), today=TODAY
        )
    assert fields(exc.value) == {"stage"}
    pipeline.refresh_from_db()
    assert pipeline.stage == Stage.SHAREHOLDING
    assert StageRecord.objects.filter(pipeline=pipeline).count() == 2


@pytest.mark.parametrize(
    ("board", "stage"),
    [("neeq", Stage.LISTED), ("regional_sme", Stage.LISTED), ("star", Stage.QUOTED)],
)
def test_final_stage_must_fit_the_board(world, build, board, stage):
    pipeline = build(board=board, upto=Stage.REVIEW)
    with pytest.raises(ValidationFailed) as exc:
        services.advance(world.user("gov_jiashan"), pipeline, stage_data(stage, TODAY), today=TODAY)
    assert fields(exc.value) == {"stage"}


def test_dates_before_the_previous_stage_before_filing_or_in_the_future_are_refused(world, build):
    pipeline = build(upto=Stage.REVIEW)
    filing_day = START + timedelta(days=90)
    gov = world.user("gov_jiashan")
    with pytest.raises(ValidationFailed) as exc:
        services.advance(
            gov, pipeline, stage_data(Stage.LISTED, filing_day - timedelta(days=1)), today=TODAY
        )
    assert fields(exc.value) == {"reached_on"}
    assert "申报" in exc.value.errors[0].message
    with pytest.raises(ValidationFailed) as exc:
        services.advance(
            gov, pipeline, stage_data(Stage.LISTED, filing_day + timedelta(days=1)), today=TODAY
        )
    assert fields(exc.value) == {"reached_on"}  # before 审核/注册 (filing + 30 days)
    with pytest.raises(ValidationFailed) as exc:
        services.advance(
            gov, pipeline, stage_data(Stage.LISTED, TODAY + timedelta(days=1)), today=TODAY
        )
    assert fields(exc.value) == {"reached_on"}
    with pytest.raises(ValidationFailed) as exc:
        services.advance(gov, pipeline, stage_data(Stage.LISTED, "2026-13-40"), today=TODAY)
    assert fields(exc.value) == {"reached_on"}


def test_listing_needs_a_stock_code_and_proceeds_and_refuses_them_earlier(world, build):
    pipeline = build(upto=Stage.REVIEW)
    gov = world.user("gov_jiashan")
    bad = stage_data(Stage.LISTED, TODAY, stock_code="", proceeds="")
    with pytest.raises(ValidationFailed) as exc:
        services.advance(gov, pipeline, bad, today=TODAY)
    assert fields(exc.value) == {"stock_code", "proceeds"}
    for proceeds in ("-1", "12.345", "abc"):
        with pytest.raises(ValidationFailed) as exc:
            services.advance(
                gov, pipeline, stage_data(Stage.LISTED, TODAY, proceeds=proceeds), today=TODAY
            )
        assert fields(exc.value) == {"proceeds"}, proceeds
    with pytest.raises(ValidationFailed) as exc:
        services.advance(
            gov, pipeline, stage_data(Stage.LISTED, TODAY, stock_code="92A"), today=TODAY
        )
    assert fields(exc.value) == {"stock_code"}
    early = build(enterprise=world.ent2, upto=Stage.INCUBATION)
    with pytest.raises(ValidationFailed) as exc:
        services.advance(
            gov, early, stage_data(Stage.SHAREHOLDING, TODAY, stock_code="920001"), today=TODAY
        )
    assert fields(exc.value) == {"stock_code"}
    assert not Qualification.objects.filter(kind=QualificationKind.LISTED).exists()


def test_regional_board_is_quoted_without_proceeds(world, build):
    pipeline = build(board="regional_sme", upto=Stage.REVIEW)
    services.advance(
        world.user("gov_jiashan"),
        pipeline,
        stage_data(Stage.QUOTED, TODAY, stock_code="ZJ8123", proceeds=""),
        today=TODAY,
    )
    pipeline.refresh_from_db()
    assert (pipeline.stage, pipeline.proceeds) == (Stage.QUOTED, None)
    assert Qualification.objects.get(enterprise=world.ent).board == "regional"


def test_withdraw_from_any_stage_before_the_last_but_not_after(world, build):
    gov = world.user("gov_jiashan")
    pipeline = build(upto=Stage.FILING)
    with pytest.raises(ValidationFailed) as exc:
        services.withdraw(gov, pipeline, {"reason": ""}, today=TODAY)
    assert fields(exc.value) == {"reason"}
    with pytest.raises(ValidationFailed) as exc:
        services.withdraw(gov, pipeline, {"reason": "撤回", "withdrawn_on": START}, today=TODAY)
    assert fields(exc.value) == {"withdrawn_on"}
    services.withdraw(gov, pipeline, {"reason": "企业主动撤回"}, today=TODAY)
    pipeline.refresh_from_db()
    assert (pipeline.stage, pipeline.withdrawn_on) == (Stage.WITHDRAWN, TODAY)
    listed = build(enterprise=world.ent2, upto=Stage.LISTED)
    with pytest.raises(Conflict):
        services.withdraw(gov, listed, {"reason": "x"}, today=TODAY)
    # A withdrawn pipeline frees the board: a new one may start.
    again = build(upto=Stage.INCUBATION)
    assert again.pk != pipeline.pk


def test_who_may_do_what(world, build):
    # The enterprise applies for its own 孵化 and may withdraw it then…
    own = services.create_pipeline(
        world.user("ent_user"), {"board": "neeq", "agency_id": world.gov_jiashan.pk}, today=TODAY
    )
    assert own.enterprise == world.ent and own.stage == Stage.INCUBATION
    # …but not for another enterprise, nor record the next stage.
    with pytest.raises(ValidationFailed) as exc:
        services.create_pipeline(
            world.user("ent_user"), {"enterprise": world.ent2.uscc, "board": "bse"}, today=TODAY
        )
    assert fields(exc.value) == {"enterprise"}
    with pytest.raises(NotAllowed):
        services.advance(
            world.user("ent_user"), own, stage_data(Stage.SHAREHOLDING, TODAY), today=TODAY
        )
    with pytest.raises(NotAllowed):
        services.advance(
            world.user("gov_jiangsu"), own, stage_data(Stage.SHAREHOLDING, TODAY), today=TODAY
        )
    with pytest.raises(NotFound):
        services.get_visible_pipeline(world.user("gov_jiangsu"), own.pk)
    with pytest.raises(NotFound):
        services.get_visible_pipeline(world.user("ent2_user"), own.pk)
    with pytest.raises(NotFound):
        services.get_visible_pipeline(world.user("bank_staff"), own.pk)
    later = build(enterprise=world.ent2, upto=Stage.SHAREHOLDING)
    with pytest.raises(NotAllowed):
        services.withdraw(world.user("ent2_user"), later, {"reason": "x"}, today=TODAY)
    services.withdraw(world.user("ent_user"), own, {"reason": "暂缓"}, today=TODAY)
    assert Pipeline.objects.get(pk=own.pk).stage == Stage.WITHDRAWN


def test_agency_must_cover_the_enterprise_and_duplicates_conflict(world, build):
    with pytest.raises(ValidationFailed) as exc:
        services.create_pipeline(
            world.user("admin"),
            {"enterprise": world.ent.uscc, "board": "bse", "agency_id": world.gov_jiangsu.pk},
            today=TODAY,
        )
    assert fields(exc.value) == {"agency_id"}
    with pytest.raises(ValidationFailed) as exc:
        services.create_pipeline(
            world.user("gov_jiashan"),
            {"enterprise": world.ent.uscc, "board": "nasdaq", "colour": "red"},
            today=TODAY,
        )
    assert fields(exc.value) == {"board", "colour"}
    build(upto=Stage.INCUBATION)
    with pytest.raises(Conflict):
        build(upto=Stage.INCUBATION)
