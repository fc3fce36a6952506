"""A plain reference written straight from the clauses (docs/policy.md §1-§3), independent of the engine and the policy files.

Deliberately naive: the numbers are typed in from the policy text so that a
wrong number in a policy file, or a wrong branch in the engine, shows up as a
disagreement on random inputs.
"""

from decimal import ROUND_HALF_UP, Decimal

D = Decimal


def oracle_reward(year: int, category: str, base_usd: Decimal, fx: Decimal, reading: str = "converted") -> Decimal:
    """Chongqing's reward in CNY, statutory floors, for one project-year."""
    if 2018 <= year <= 2022:
        # 渝府发〔2018〕50号 as restated: over USD 5M (read per year), at least 2%, no cap;
        # 房地产业、金融业、及金融类项目除外: real estate, finance and quasi-finance excluded.
        if category in ("real_estate", "finance", "quasi_finance"):
            return D("0.00")
        rate = D("0.02") if base_usd > D(5_000_000) else D(0)
        cap = None
    elif year >= 2023:
        # 超过1000万美元 -> 2%; 制造业 超过3000万美元 -> 4%; 房地产业、金融业及类金融业 excluded; cap 1000万元.
        if category in ("real_estate", "finance", "quasi_finance"):
            return D("0.00")
        if category == "manufacturing" and base_usd > D(30_000_000):
            rate = D("0.04")
        elif base_usd > D(10_000_000):
            rate = D("0.02")
        else:
            rate = D(0)
        cap = D(10_000_000)
    else:
        raise ValueError("no policy")
    base_cny = base_usd * fx if reading == "converted" else base_usd
    reward = base_cny * rate
    if cap is not None and reward > cap:
        reward = cap
    return reward.quantize(D("0.01"), ROUND_HALF_UP)
