"""Where a project earns most: `fdi compare` and `compare()`, the combinations a place brings to
`fdi calc` (Tongliang adds to Chongqing; Jinan and Shandong, the higher of the two), a place where
policies apply that declare no combination, and `fdi batch --compare`."""

import csv
import json
from decimal import Decimal

from fdi_incentive import Project, assess, compare

from .test_cli import fdi

PROJECT = ["--year", "2025", "--kind", "new", "--sector", "manufacturing", "--paid-in-usd", "60000000", "--fx-rate", "7.1"]


def test_compare_lists_every_policy_and_place_group_best_paid_first_with_what_the_checks_read():
    result = fdi("compare", *PROJECT, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    for key in ("policy", "location_group", "policy_status", "rate_type", "incentive_cny", "confidence"):
        assert all(key in r for r in rows), key
    pays = [Decimal(r["incentive_cny"]) for r in rows]
    assert pays == sorted(pays, reverse=True)
    # a row per place group where a policy sets thresholds by place (Guangdong 2024's two city groups)
    assert len([r for r in rows if r["policy"] == "cn-gd-2024"]) == 2
    # each row is calc's answer for that policy (a place of its group where it has groups)
    one = next(r for r in rows if r["policy"] == "cn-sn-2023")
    calc = assess(Project.for_year(2025, paid_in="60000000", sector="manufacturing"), policy="cn-sn-2023", fx="7.1")
    assert Decimal(one["incentive_cny"]) == calc.total_incentive_cny and one["policy_status"] == calc.years[0].policy_status


def test_compare_at_a_place_lists_the_policies_that_speak_of_it_with_their_combination():
    rows = compare(Project.for_year(2025, paid_in="20000000", sector="manufacturing", location="铜梁区"), fx="7.1")
    assert {r.policy for r in rows} == {"cn-cq-2023", "cn-cq-tongliang-2025"}
    tongliang = next(r for r in rows if r.policy == "cn-cq-tongliang-2025")
    assert tongliang.incentive_cny == Decimal("400000.00")  # 0.02 元 per USD, nominal by its own words
    assert tongliang.combined_incentive_cny == Decimal("3240000.00")  # + Chongqing's 2% of 20M at 7.1


def test_a_place_brings_its_policies_and_their_declared_combination_to_calc():
    added = json.loads(fdi("calc", "--year", "2025", "--sector", "manufacturing", "--paid-in-usd", "20000000", "--fx-rate", "7.1",
                           "--location", "铜梁区", "--json").output)
    assert added["total_incentive_cny"] == "3240000.00" and all(y["paid"] for y in added["years"])
    higher = json.loads(fdi("calc", "--year", "2025", "--sector", "services", "--paid-in-usd", "60000000", "--fx-rate", "7.1",
                            "--location", "济南", "--json").output)
    paid = [y for y in higher["years"] if y["paid"]]
    assert len(paid) == 1 and Decimal(higher["total_incentive_cny"]) == max(Decimal(y["incentive_cny"]) for y in higher["years"])
    assert all("the higher of" in y["combination"] for y in higher["years"])


def test_a_place_where_policies_declare_no_combination_is_refused_naming_them():
    result = fdi("calc", *PROJECT, "--location", "佛山市")
    assert result.exit_code == 2
    assert "cn-gd-2024, cn-gd-foshan-2023" in result.output and "--policy" in result.output and "fdi compare" in result.output


def test_qingdao_is_excluded_from_shandongs_reward_and_xiamen_from_fujians():
    for place, policy in (("青岛市", "cn-sd-2023"), ("厦门", "cn-fj-2023")):
        out = json.loads(fdi("calc", "--policy", policy, "--location", place, "--year", "2023", "--sector", "manufacturing",
                             "--paid-in-usd", "80000000", "--fx-rate", "7.1", "--json").output)
        assert out["total_incentive_cny"] == "0.00" and out["years"][0]["place_state"] == "excluded", place


def test_batch_compare_writes_a_row_per_input_row_and_policy_in_input_order(tmp_path):
    out = tmp_path / "compared.csv"
    result = fdi("batch", "examples/pipeline.csv", "--compare", "-o", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    ids = [r["project_id"] for r in rows]
    n = len({lp for lp in ids})
    assert len(rows) == n * (len(rows) // n) and ids == sorted(ids, key=ids.index)  # each input row's policies together
    tongliang = [r for r in rows if r["project_id"] == "P1"]
    assert {r["policy"]: r["incentive_cny"] for r in tongliang}["cn-cq-tongliang-2025"] == "400000.00"
