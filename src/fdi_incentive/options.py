"""What the user chose for a batch (`fdi batch`'s options), shared by the scorer (frame.py) and the ledger."""

from dataclasses import dataclass, field
from decimal import Decimal

from .fx import RateChain, parse_rate
from .policy import LoadedPolicy


@dataclass
class Options:
    """What the user chose for a batch."""

    policy: LoadedPolicy | None = None  # forced; None = the one in force each year
    family: str | None = None  # without a policy: the family whose version for each year scores it (default Chongqing's)
    reading: str | None = None
    fx_rate: Decimal | None = None  # one CNY-per-USD rate for every row without its own
    rates: RateChain = field(default_factory=RateChain)
    unit: Decimal = Decimal(1)
    units: dict[str, Decimal] = field(default_factory=dict)  # an amount column's own unit (from its header): canon -> unit
    unit_given: bool = False  # --unit was given (a header naming another unit contradicts it)
    unit_text: str | None = None  # --unit as the user typed it (an error quotes it so)

    def __post_init__(self) -> None:
        if self.fx_rate is not None:  # (as --fx-rate is read: within the bounds the integers hold)
            self.fx_rate = parse_rate(self.fx_rate, "fx_rate")
