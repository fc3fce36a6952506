"""Policy files are data with citations, loaded strictly."""

from pathlib import Path

import pytest

from fdi_incentive import PolicyError, Project, assess, bundled_policies, get_policy, policy_for_year
from fdi_incentive.policy import parse_policy

SHIPPED = Path(__file__).parents[1] / "src" / "fdi_incentive" / "policies"


def shipped_text(name="cn-cq-2023.toml"):
    return (SHIPPED / name).read_text(encoding="utf-8")


def test_every_shipped_policy_validates_and_cites_every_number():
    policies = bundled_policies()
    ids = [lp.policy.id for lp in policies]
    # (the other jurisdictions' files are listed and tested in their own test files)
    assert {"cn-cq-2018", "cn-cq-2023", "cn-sd-2023", "cn-sd-jinan-2020", "cn-gd-2018", "cn-gd-2024",
            "cn-gd-foshan-2023", "cn-sn-2023", "cn-fj-2023", "cn-cq-tongliang-2025"} <= set(ids)
    assert sorted(ids) == sorted(f.stem for f in SHIPPED.glob("*.toml"))  # every file, once
    for lp in policies:
        p = lp.policy
        assert p.clause_source.quote and p.caveats
        assert all(t.citation for t in p.tiers)  # every number of a tier beside the words it comes from
        # (exclusions: cited where a text names them, else our assumption that none is named)
        assert p.exclusions.said() and p.base.citation and p.rounding.said() and p.cap.said()
        assert p.exclusions.citation or p.exclusions.assumption
        assert p.cap.amount is None or p.cap.citation


def test_version_in_force_is_chosen_by_year():
    assert policy_for_year(2018).policy.id == "cn-cq-2018"
    assert policy_for_year(2022).policy.id == "cn-cq-2018"
    assert policy_for_year(2023).policy.id == "cn-cq-2023"
    assert policy_for_year(2026).policy.id == "cn-cq-2023"  # no end date, with a caveat
    with pytest.raises(PolicyError, match="no policy is in force in 2017"):
        policy_for_year(2017)


@pytest.mark.parametrize(
    "edit, message",
    [
        (('rate = "0.04"', 'rate = "0.04"\nrat = "1"'), r"tiers\[1\]\.rat: unknown key; allowed keys here: .*id, label"),
        (('rate = "0.04"', "rate = 0.04"), 'write the number as a string so it stays exact, e.g. "0.04"'),
        (('rate = "0.04"', 'rate = "4"'), r"tiers\[1\]\.rate: '4' is not valid; expected a number of at most 1"),
        (('comparator = "gt" }\nrate = "0.02"', 'comparator = "over" }\nrate = "0.02"'), r"comparator: 'over' is not valid; expected 'gt' or 'ge'"),
        (("[effective]\nfrom = 2023-01-01", "[effective]\nfrom = 2023-01-01\nto = 2022-01-01"), "before 'from'"),
        (('[stacking]\nmode = "best"', '[stacking]\nmode = "sum"'), r"stacking\.mode"),
        (("schema_version = 2", "schema_version = 3"), "schema_version"),
        (("schema_version = 2", "schema_version = 1"), r"schema_version 1 is the old layout .*\[\[sources\]\]"),
        (('id = "cn-cq-2023"', 'id = "cn-cq-2023"\nextra = 1'), "extra: unknown key"),
    ],
)
def test_strict_loading_names_the_key_and_what_to_write(edit, message):
    old, new = edit
    text = shipped_text()
    assert old in text
    with pytest.raises(PolicyError, match=message):
        parse_policy(text.replace(old, new), "x.toml")


def test_missing_key_and_bad_toml():
    with pytest.raises(PolicyError, match="rounding: required key is missing"):
        parse_policy(shipped_text().split("[rounding]")[0] + "\n[[caveats]]\nid='a'\ntext='b'\n", "x.toml")
    with pytest.raises(PolicyError, match="not valid TOML"):
        parse_policy("id = ", "x.toml")


def test_a_users_policy_file_drives_the_engine(tmp_path):
    """A new city is a new file, not new code: inclusive threshold (及以上), exact rate, own cap."""
    text = (
        shipped_text()
        .replace('id = "cn-cq-2023"', 'id = "xx-test"')
        .replace('amount = "10000000", currency = "USD", comparator = "gt"', 'amount = "5000000", currency = "USD", comparator = "ge"')
        .replace('rate = "0.02"\nrate_type = "floor"', 'rate = "0.01"\nrate_type = "exact"')
        .replace('amount = "10000000"\ncurrency = "CNY"', 'amount = "200000"\ncurrency = "CNY"')
    )
    path = tmp_path / "xx-test.toml"
    path.write_text(text, encoding="utf-8")
    project = Project.for_year(2024, paid_in="5000000", sector="services")
    y = assess(project, policy=str(path), fx="7").years[0]
    assert (y.policy, y.tier, y.incentive_cny) == ("xx-test", "general", 200000)  # 350,000 capped at 200,000
    assert get_policy(str(path)).origin == str(path)
    from fdi_incentive import InputError

    with pytest.raises(InputError, match="exactly 0.01"):
        assess(project, policy=str(path), fx="7", granted_rate="0.02")


@pytest.mark.parametrize(
    "policy_id, year, status",
    [
        ("cn-cq-2018", 2018, "in_force"), ("cn-cq-2018", 2022, "in_force"),
        ("cn-cq-2023", 2023, "in_force"), ("cn-cq-2023", 2024, "in_force"),
        ("cn-cq-2023", 2025, "assumed_continuation"), ("cn-cq-2023", 2026, "assumed_continuation"),
    ],
)
def test_status_for_a_year_says_whether_the_source_states_it(policy_id, year, status):
    assert get_policy(policy_id).policy.status_for(year) == status


@pytest.mark.parametrize("policy_id, year", [("cn-cq-2023", 2022), ("cn-cq-2023", 2019), ("cn-cq-2018", 2023), ("cn-cq-2018", 2017)])
def test_status_for_a_year_outside_the_dates_is_refused_naming_them(policy_id, year):
    with pytest.raises(PolicyError, match=rf"{policy_id} applies to 20\d\d.* not to {year}"):
        get_policy(policy_id).policy.status_for(year)


def test_a_source_period_is_stated_apart_from_the_years_applied():
    p = get_policy("cn-cq-2023").policy
    assert p.effective.to is None and p.source_period.to.year == 2024
    text = shipped_text()
    with pytest.raises(PolicyError, match="source_period.from .* must equal effective.from"):
        parse_policy(text.replace("[source_period]\nfrom = 2023-01-01", "[source_period]\nfrom = 2024-01-01"), "x.toml")
    bounded = text.replace("[effective]\nfrom = 2023-01-01", "[effective]\nfrom = 2023-01-01\nto = 2023-12-31")
    with pytest.raises(PolicyError, match="must not be after effective.to"):
        parse_policy(bounded, "x.toml")
