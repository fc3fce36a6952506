"""`fdi plan` against one `fdi calc`: a 10-year plan (aim: within 3x one calc) and 30-year plans (aim: under 2 s).

Whole processes, alternated A B A B ..., a warm-up pair discarded; prints the median ratio
with its min-max, and the median wall time of each plan. Usage: python bench/plan.py [PAIRS]
"""

from __future__ import annotations

import shutil
import sys

from startup import alternate  # (bench/ is on the path: the scripts run as python bench/NAME.py)

PAIRS = int(sys.argv[1]) if len(sys.argv) > 1 else 11
FDI = [shutil.which("fdi")] if shutil.which("fdi") else [sys.executable, "-m", "fdi_incentive"]
CALC = FDI + ["calc", "--year", "2024", "--sector", "manufacturing", "--paid-in-usd", "42000000", "--fx-rate", "7.1"]
CASES = {
    "plan 10 years, given rate": FDI + ["plan", "--total-usd", "200000000", "--years", "2024-2033",
                                       "--sector", "manufacturing", "--fx-rate", "7.1"],
    "plan 30 years, given rate": FDI + ["plan", "--total-usd", "1000000000", "--years", "2024-2053",
                                       "--sector", "manufacturing", "--fx-rate", "7.1"],
    "plan 30 years, embedded + assumed rates": FDI + ["plan", "--total-usd", "1000000000", "--years", "2024-2053",
                                                     "--sector", "manufacturing"],
    "plan 30 years, services, max per year": FDI + ["plan", "--total-usd", "600000000", "--years", "2024-2053",
                                                   "--sector", "services", "--max-per-year", "40000000"],
}


def main() -> None:
    alternate(CALC, CASES, PAIRS, "calc", width=42, show_max=True)


if __name__ == "__main__":
    main()
