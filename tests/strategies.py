"""Shared Hypothesis strategies: amounts to the cent that crowd the thresholds and the cap points."""

from decimal import Decimal

from hypothesis import strategies as st

CENT = Decimal("0.01")
EDGES = [Decimal(x) for x in ("5000000", "10000000", "30000000", "34722222.22", "69444444.44", "250000000", "500000000")]

SECTORS = {
    "manufacturing": "manufacturing", "electronics": "manufacturing", "pharmaceutical": "manufacturing",
    "services": "other", "other": "other", "real-estate": "real_estate", "finance": "finance",
    "quasi-finance": "quasi_finance",
}


def cents(min_value: int = 0, max_value: int = 10**11) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=min_value, max_value=max_value).map(lambda c: Decimal(c) * CENT)


near_edges = st.builds(lambda e, d: max(e + Decimal(d) * CENT, Decimal(0)), st.sampled_from(EDGES), st.integers(-3, 3))

amounts_usd = st.one_of(near_edges, cents(0, 2 * 10**10), cents(0, 10**14))
fx_rates = st.integers(min_value=50_000, max_value=80_000).map(lambda n: Decimal(n) / 10_000)  # 5.0000 .. 8.0000
years = st.integers(min_value=2018, max_value=2026)
sectors = st.sampled_from(sorted(SECTORS))
readings = st.sampled_from(["converted", "nominal"])


def _policy_from(tiers, cap, excluded):
    """A policy like the shipped 2023 one with other tiers, cap and exclusions (validated as a file would be)."""
    from fdi_incentive.policy import Policy, get_policy

    raw = get_policy("cn-cq-2023").policy.model_dump(mode="json", by_alias=True)
    raw["id"] = "xx-generated"
    raw["tiers"] = [
        {"id": f"t{i}", "label": f"tier {i}", "categories": cats, "rate": str(rate), "rate_type": "floor",
         "threshold": {"amount": str(amount), "currency": "USD", "comparator": comparator}, "citation": "generated"}
        for i, (amount, comparator, rate, cats) in enumerate(tiers)
    ]
    raw["cap"] = {"amount": str(cap), "currency": "CNY", "scope": "project_year", "citation": "generated"}
    raw["exclusions"] = {"categories": excluded, "codes": [], "citation": "generated"}
    return Policy.model_validate(raw)


_CATEGORIES = ["manufacturing", "real_estate", "finance", "quasi_finance", "other"]
_tier = st.tuples(
    st.one_of(cents(1, 10**10), st.integers(1, 10**6).map(lambda n: Decimal(n) * 100)),  # thresholds, some off the grid
    st.sampled_from(["gt", "ge"]),
    st.integers(1, 1000).map(lambda n: Decimal(n) / 10_000),  # 0.01% .. 10%
    st.sampled_from([[], [], ["manufacturing"], ["other"], ["manufacturing", "other"]]),
)
# policies with one to four tiers of any thresholds, comparators, rates and categories, any cap
generated_policies = st.builds(
    _policy_from,
    st.lists(_tier, min_size=1, max_size=4),
    st.one_of(st.integers(1, 10**9).map(Decimal), cents(1, 10**11)),
    st.sampled_from([[], ["real_estate"], ["real_estate", "finance", "quasi_finance"]]),
)
