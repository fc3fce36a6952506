"""Write a project-year CSV for benchmarks and tests, from a fixed seed.

Rows crowd the thresholds (exactly at, and a cent either side of, USD 5M, 10M and
30M and the cap points) and include amounts whose exact payout ends in half a fen
(at FX 7.25 and 2%, an odd whole number of dollars: 15,000,001 × 7.25 × 0.02 =
2,175,000.145). Usage: python bench/generate.py ROWS OUT.csv [SEED]
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


def main() -> None:
    rows, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20240101)
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        for i in range(rows):
            f.write(",".join(row(rng, i)) + "\n")


if __name__ == "__main__":
    main()
