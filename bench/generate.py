"""Write a project-year CSV (or a ledger of arrivals) for benchmarks and tests, from a fixed seed.

Rows crowd the thresholds (exactly at, and a cent either side of, USD 5M, 10M and
30M and the cap points) and include amounts whose exact payout ends in half a fen
(at FX 7.25 and 2%, an odd whole number of dollars: 15,000,001 × 7.25 × 0.02 =
2,175,000.145). Usage: python bench/generate.py ROWS OUT.csv [SEED]

With --ledger: ROWS arrivals (project_id, date, type, amount, currency, kind, sector) of
ROWS / 5 projects over 2018-2025, in USD, CNY and EUR, each dated; a few dates written as
Chinese sheets write them (2024年3月15日). Usage: python bench/generate.py --ledger ROWS OUT.csv [SEED]
"""

from __future__ import annotations

import random
import sys

SECTORS = ["manufacturing", "services", "electronics", "real-estate", "finance", "quasi-finance", "other",
           "automobile", "pharmaceutical", "", ""]
CODES = ["C3670", "C39", "K7010", "J66", "7212", "I65", "F51", "M73", "C", "7299"]
EDGES = [5_000_000, 10_000_000, 30_000_000, 34_722_222.22, 69_444_444.44]
FX = ["7.2", "7.25", "7.1", "6.9", "7.0"]


def row(rng: random.Random, i: int) -> list[str]:
    year = rng.randint(2018, 2026)
    kind = rng.choice(["new", "capital_increase", "capital-increase", "新设", "增资"])
    sector = rng.choice(SECTORS)
    code = rng.choice(CODES) if not sector or rng.random() < 0.1 else ""
    if sector and code:
        code = {"manufacturing": "C36", "electronics": "C39", "automobile": "C3670", "pharmaceutical": "C27",
                "real-estate": "K70", "finance": "J66", "quasi-finance": "7212"}.get(sector, "I65")
    r = rng.random()
    if r < 0.25:
        amount = f"{rng.choice(EDGES) + rng.choice([-0.01, 0, 0.01]):.2f}"
    elif r < 0.35:
        amount = f"{rng.randrange(5_000_001, 80_000_001, 2)}"  # odd dollars: half a fen at 7.25 and 2%
    else:
        amount = f"{rng.randint(0, 12_000_000_000) / 100:.2f}"
    loans = f"{rng.randint(0, 2_000_000_000) / 100:.2f}" if rng.random() < 0.3 else ""
    profit = f"{rng.randint(0, 500_000_000) / 100:.2f}" if rng.random() < 0.2 else ""
    fx = rng.choice(FX)
    return [f"P{i:08d}", str(year), kind, sector, code, amount, loans, profit, fx]


HEADER = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "shareholder_loans_usd",
          "reinvested_profit", "fx_rate"]


LEDGER_HEADER = ["project_id", "date", "type", "amount", "currency", "kind", "sector"]


def arrival(rng: random.Random, projects: int) -> list[str]:
    year, month, day = rng.randrange(2018, 2026), rng.randrange(1, 13), rng.randrange(1, 29)
    date = f"{year}年{month}月{day}日" if rng.random() < 0.01 else f"{year}-{month:02d}-{day:02d}"
    project = rng.randrange(projects)  # (its kind and sector on every row of it: arrivals that disagree are errors)
    return [f"P{project:07d}", date, rng.choice(["equity", "equity", "reinvested_profit", "shareholder_loan"]),
            f"{rng.randrange(1, 5_000_000_000) / 100:.2f}", rng.choice(["USD", "USD", "CNY", "EUR"]),
            ("new", "capital_increase")[project % 2], ("manufacturing", "services", "real-estate")[project % 3]]


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--ledger"]
    ledger = len(args) < len(sys.argv) - 1
    rows, out = int(args[0]), args[1]
    rng = random.Random(int(args[2]) if len(args) > 2 else 20240101)
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(LEDGER_HEADER if ledger else HEADER) + "\n")
        for i in range(rows):
            f.write(",".join(arrival(rng, max(rows // 5, 1)) if ledger else row(rng, i)) + "\n")


if __name__ == "__main__":
    main()
