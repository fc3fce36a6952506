"""Policies of every shape a policy file may take, built from Chongqing's file with its parts
replaced: for tests of the engine's new shapes without depending on any shipped file."""

import tomllib
from pathlib import Path

from fdi_incentive.policy import LoadedPolicy, Policy

CQ = tomllib.loads((Path(__file__).parents[1] / "src/fdi_incentive/policies/cn-cq-2023.toml").read_text(encoding="utf-8"))


def tier(id, rate, threshold="0", comparator="gt", rate_type="exact", **more):
    return {"id": id, "label": id, "categories": more.pop("categories", []), "rate": rate, "rate_type": rate_type,
            "threshold": {"amount": threshold, "currency": "USD", "comparator": comparator}, "citation": "x", **more}


def policy(tiers, *, id="x-test", cap=None, **more) -> LoadedPolicy:
    raw = {k: v for k, v in CQ.items() if k not in ("tiers", "cap", "caveats")}
    raw.update(id=id, family=more.pop("family", id), tiers=tiers, cap={"citation": "x", **({"amount": cap} if cap else {})})
    raw["effective"] = {"from": more.pop("start", CQ["effective"]["from"]), "citation": "x", **more.pop("effective", {})}
    raw.pop("source_period", None)
    raw.update(more)
    return LoadedPolicy(policy=Policy.model_validate(raw), origin="test", sha256="0")
