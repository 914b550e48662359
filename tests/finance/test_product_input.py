"""Bad product and demand input never gets past the services as anything but
ValidationFailed with field messages, and never leaves a row behind."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chanrong.core.errors import ValidationFailed
from chanrong.demands.models import Demand
from chanrong.demands.services import clean_demand_data, create_demand
from chanrong.finance.models import Product
from chanrong.finance.services import clean_product_data, create_product

pytestmark = pytest.mark.django_db

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.text(max_size=8), max_size=3),
)
PRODUCT_KEYS = (
    "name", "kind", "pledge_kind", "branch_id", "amount_min_wan", "amount_max_wan",
    "term_min_months", "term_max_months", "rate_type", "rate_min", "rate_max", "lpr_tenor",
    "spread_min", "spread_max", "regions", "industries_in", "sizes", "min_tax_grade",
    "min_years", "min_revenue_wan", "processing_days", "collateral_options",
)  # fmt: skip
DEMAND_KEYS = (
    "kind", "amount_wan", "term_months", "purpose", "rate_max", "collateral_offered",
    "urgency", "preferred_institution_ids",
)  # fmt: skip


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.fixed_dictionaries({}, optional=dict.fromkeys(PRODUCT_KEYS, junk)))
def test_product_input_is_validated_or_refused(world, data):
    try:
        values = clean_product_data(data, institution=world.bank)
    except ValidationFailed as exc:
        assert exc.errors and all(e.field and e.message for e in exc.errors)
    else:
        assert values["amount_min"] > 0 and values["amount_min"] <= values["amount_max"]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.fixed_dictionaries({}, optional=dict.fromkeys(DEMAND_KEYS, junk)))
def test_demand_input_is_validated_or_refused(world, data):
    try:
        values = clean_demand_data(data)
    except ValidationFailed as exc:
        assert exc.errors and all(e.field and e.message for e in exc.errors)
    else:
        assert values["amount"] > 0 and values["term_months"] > 0


def test_refused_input_leaves_nothing_behind(world):
    with pytest.raises(ValidationFailed):
        create_product(world.user("bank_staff"), {"name": "坏产品", "amount_min_wan": "1e-9"})
    with pytest.raises(ValidationFailed):
        create_demand(world.user("ent_user"), {"kind": "debt", "amount_wan": "0.0000001"})
    assert not Product.objects.exists() and not Demand.objects.exists()
