"""`fdi plan` under the new shapes: bands, parts, tiers for a kind and a tier's own cap are planned,
each planned year paying what calc pays for it; a cap over a period, place groups, flags, a spent
base and an October-September year are refused, saying which and why."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fdi_incentive import PolicyError, Project, assess
from fdi_incentive.plan import plan

from .shapes import policy, tier
from .test_shapes import BANDS, PARTS, PERIOD
from .test_shapes_batch import FLAGGED, SPENT

KINDS = policy([tier("new", "0.02", "50000000", kinds=["new"]), tier("ci", "0.02", "30000000", kinds=["capital_increase"],
                                                                      cap={"amount": "3000000", "citation": "x"})])


@given(lp=st.sampled_from([BANDS, PARTS, KINDS]), kind=st.sampled_from(["new", "capital_increase"]),
       total=st.integers(1, 400).map(lambda m: D(m) * 1_000_000), fx=st.sampled_from(["7.1", "6.9"]))
@settings(max_examples=25, deadline=None)
def test_every_planned_year_pays_what_calc_pays_under_bands_parts_kinds_and_tier_caps(lp, kind, total, fx):
    p = plan(total, [2024, 2025, 2026], sector="manufacturing", kind=kind, fx=fx, policy=lp, step=D(1_000_000))
    for y in p.schedule:
        project = Project.for_year(y.year, paid_in=y.paid_in_usd, sector="manufacturing", kind=kind)
        assert assess(project, fx=fx, policy=lp).years[0].incentive_cny == y.incentive_cny, y


@pytest.mark.parametrize("lp, shape", [(PERIOD, "a cap over a period"), (FLAGGED, "tiers for flags"),
                                       (SPENT, "a base of the amount spent")])
def test_a_shape_the_plan_cannot_search_is_refused_naming_it_and_why(lp, shape):
    with pytest.raises(PolicyError, match=f"fdi plan cannot plan it yet: .*{shape} \\(") as e:
        plan(D(100_000_000), [2024, 2025], sector="manufacturing", fx="7.1", policy=lp)
    assert "fdi calc or fdi compare" in str(e.value)


def test_every_shipped_policy_is_planned_or_refused_saying_which_shapes_and_why():
    from fdi_incentive.policy import bundled_policies

    for lp in bundled_policies():
        cannot = lp.policy.shapes_plan_cannot()
        try:
            eff = lp.policy.effective
            years = [eff.from_.year] + ([eff.from_.year + 1] if eff.to is None or eff.to.year > eff.from_.year else [])
            p = plan(D(100_000_000), years, sector="manufacturing", fx="7.1", policy=lp, step=D(1_000_000))
        except PolicyError as e:
            assert cannot and "fdi plan cannot plan it yet" in str(e), lp.policy.id
            continue
        assert not cannot, lp.policy.id
        for y in p.schedule:
            project = Project.for_year(y.year, paid_in=y.paid_in_usd, sector="manufacturing")
            assert assess(project, fx="7.1", policy=lp).years[0].incentive_cny == y.incentive_cny, (lp.policy.id, y)
