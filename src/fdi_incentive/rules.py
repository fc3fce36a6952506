"""The rule as data: what each policy decides for a project-year from everything but its amounts.

Which tiers a (policy, category, kind) can reach, best first, with their thresholds,
comparators, rates, rate types, caps and reason texts; whether the category or kind is excluded
and why; which code prefixes a policy excludes; which policy scores a year, its status, and the
year's exchange rate when none is given. Each is derived here once, from the policy files and the
options, as small rows. Every engine reads these rows: calc and plan (`engine.decide`), the batch
(`frame.Scorer`), and the SQL of `fdi sql` and Spark, which join them as reference tables
(`reference.py`). An engine writes only the arithmetic: the threshold test, base × FX × rate,
the cap and the one rounding.

The texts here are the machine-facing ones (the cells of every output, English whatever the
interface's language), written once for the batch and the SQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .errors import FxError, InputError, PolicyError
from .i18n import _, in_english, pick
from .industry import CATEGORIES, category_label
from .money import YEARS, money_fmt, percent_fmt
from .policy import KIND_NAMES, LoadedPolicy, Policy, Tier, no_policy_message, policy_for_year

KINDS = tuple(dict.fromkeys(KIND_NAMES.values()))  # new, capital_increase
KIND_NOT_REWARDED = "kind not rewarded"


@dataclass(frozen=True)
class TierRow:
    """One tier a rule can reach, as every engine applies it."""

    tier: Tier
    threshold: Decimal  # USD
    comparator: str  # gt (超过) or ge (以上)
    rate: Decimal  # the tier's rate, or the granted rate
    rate_type: str  # floor, exact or ceiling (of the tier)
    cap: Decimal | None  # CNY, a project a year: the lower of the policy's cap and the tier's own
    reason: str
    capped_reason: str
    rate_error: str | None = None  # a granted rate this tier does not take: the row's error
    below: Decimal | None = None  # a band's upper bound, exclusive (USD)
    parts: tuple[tuple[str, Decimal], ...] = ()  # (payer, rate) of each part, in the order the text lists them
    period_cap: Decimal | None = None  # CNY, what one project gets over `period` at most
    period: tuple[int, int] | None = None  # the years of the period cap, first and last

    @property
    def id(self) -> str:
        return self.tier.id

    def passed_by(self, base_usd: Decimal) -> bool:
        over = base_usd > self.threshold if self.comparator == "gt" else base_usd >= self.threshold
        return over and (self.below is None or base_usd < self.below)


@dataclass(frozen=True)
class Rule:
    """What a policy decides for a category and a kind: excluded or not, which tiers, best first."""

    policy: str
    category: str
    kind: str
    excluded: bool  # by the category (a code may exclude too: `excluded_by_code`)
    excluded_reason: str  # why, when excluded (by the category or a code)
    kind_ok: bool
    none_reason: str | None  # why nothing is paid, when not excluded and no tier passes
    counts_equity: bool
    counts_profit: bool
    converted: bool  # the converted reading (else the nominal one)
    quantum: Decimal
    mode: str
    tiers: tuple[TierRow, ...]  # ranked: the first that passes applies, alone
    group: str = ""  # the place group the rule is for ("" where the policy has none)
    flags: int = 0  # the project's flags the rule is for, as bits (FLAGS), those the policy's tiers ask about

    def pick(self, base_usd: Decimal) -> TierRow | None:
        """The tier that applies (none if excluded, the kind is not rewarded, or no threshold is passed)."""
        if self.excluded or not self.kind_ok:
            return None
        return next((t for t in self.tiers if t.passed_by(base_usd)), None)


def ranked(policy: Policy, category: str, kind: str | None = None, group: str | None = None,
           flags: frozenset[str] = frozenset()) -> list[Tier]:
    """The tiers a project can reach (its category, kind, place group and flags), best first: the
    highest rate; on a tie, the later tier. Without a kind, tiers for any kind."""
    applicable = [(i, t) for i, t in enumerate(policy.tiers)
                  if t.reaches(category, kind, group, flags) or (kind is None and t.reaches(category, t.kinds[0], group, flags))]
    return [t for _, t in sorted(applicable, key=lambda it: (it[1].rate, it[0]), reverse=True)]


def excluded_by_code(policy: Policy, code: str | None) -> bool:
    return code is not None and any(code.startswith(prefix) for prefix in policy.exclusions.codes)


def tier_cap(policy: Policy, tier: Tier) -> Decimal | None:
    """A tier's cap a project a year: the lower of the policy's and the tier's own."""
    caps = [c for c in (policy.cap.amount, tier.cap.amount if tier.cap else None) if c is not None]
    return min(caps) if caps else None


def _reasons(policy: Policy, tier: Tier) -> tuple[str, str]:
    said = f"{tier.label}: base {tier.threshold.words} USD {money_fmt(tier.threshold.amount)}"
    if tier.below is not None:
        said += f" and below USD {money_fmt(tier.below)}"
    cap = tier_cap(policy, tier)
    capped = f"{said}; capped at CNY {money_fmt(cap)}" if cap is not None else said
    return said, capped


def check_granted_rate(tier: Tier, granted: Decimal) -> None:
    """A granted rate must respect the tier's rate type: not below a floor, not above a ceiling."""
    label = pick(tier.label, tier.label_zh)
    if tier.rate_type == "floor" and granted < tier.rate:
        raise InputError("rate", str(granted), _("at least {rate} (the {tier}'s floor: 不低于 {percent})").format(
            rate=tier.rate, tier=label, percent=percent_fmt(tier.rate)))
    if tier.rate_type == "ceiling" and granted > tier.rate:
        raise InputError("rate", str(granted), _("at most {rate} (the {tier}'s ceiling)").format(rate=tier.rate, tier=label))
    if tier.rate_type == "exact" and granted != tier.rate:
        raise InputError("rate", str(granted), _("exactly {rate} (the {tier}'s rate is fixed)").format(rate=tier.rate, tier=label))


def _granted_error(tier: Tier, granted: Decimal | None) -> str | None:
    if granted is None:
        return None
    try:
        check_granted_rate(tier, granted)
    except InputError as exc:
        return str(exc)
    return None


_RULES: dict[tuple, tuple[Policy, Rule]] = {}  # (the policy kept: its id is the key)


def rule(policy: Policy | LoadedPolicy, category: str, kind: str, reading: str | None = None,
         granted: Decimal | None = None, group: str | None = None, flags: frozenset[str] = frozenset()) -> Rule:
    """The rule of one policy for a category, a kind, a place group and the project's flags, under
    the options given (made once each)."""
    policy = policy.policy if isinstance(policy, LoadedPolicy) else policy
    key = (id(policy), category, kind, reading, granted, group, flags)
    found = _RULES.get(key)
    if found is None or found[0] is not policy:
        found = _RULES[key] = (policy, _rule(policy, category, kind, reading, granted, group, flags))
    return found[1]


@in_english
def _rule(policy: Policy, category: str, kind: str, reading: str | None, granted: Decimal | None,
          group: str | None = None, flags: frozenset[str] = frozenset()) -> Rule:
    counts = set(policy.base.counts)
    excluded = category in policy.exclusions.categories
    kind_ok = kind in policy.base.kinds
    tiers = ranked(policy, category, kind, group, flags)
    lowest = min(tiers, key=lambda t: t.threshold.amount, default=None)
    if not kind_ok:
        none_reason: str | None = KIND_NOT_REWARDED
    elif lowest is not None:
        none_reason = f"no reward: base not {lowest.threshold.words} USD {money_fmt(lowest.threshold.amount)}"
    elif policy.tiers and not excluded:  # (tiers, none of them for this project)
        none_reason = "no reward: no tier is for a project of this category, kind, place or flags"
    else:
        none_reason = None
    rows = tuple(
        TierRow(tier=t, threshold=t.threshold.amount, comparator=t.threshold.comparator,
                rate=t.rate if granted is None else granted, rate_type=t.rate_type, cap=tier_cap(policy, t),
                reason=reason, capped_reason=capped, rate_error=_granted_error(t, granted), below=t.below,
                parts=tuple((p.payer, p.rate) for p in _part_rates(t, granted)),
                period_cap=t.period_cap.amount if t.period_cap else None,
                period=(t.period_cap.from_, t.period_cap.to) if t.period_cap else None)
        for t in tiers for reason, capped in [_reasons(policy, t)])
    return Rule(
        policy=policy.id, category=category, kind=kind, excluded=excluded,
        excluded_reason=f"excluded: {category_label(category)} ({policy.exclusions.citation})",
        kind_ok=kind_ok, none_reason=none_reason, counts_equity="equity" in counts,
        counts_profit="reinvested_profit" in counts, converted=((None if policy.conversion.fixed else reading) or policy.conversion.default) == "converted",
        quantum=policy.rounding.quantum, mode=policy.rounding.mode, tiers=rows, group=group or "", flags=flag_bits(flags))


def version_for(versions: tuple[LoadedPolicy, ...], year: int) -> LoadedPolicy:
    """The version in force in a year; else the nearest (it pays nothing: not_yet, expired)."""
    for lp in reversed(versions):
        if lp.policy.effective.covers(year):
            return lp
    before = [lp for lp in versions if lp.policy.effective.from_.year <= year]
    return before[-1] if before else versions[0]


FLAGS = ("high_tech", "hnte", "priority")  # a project's flags as bits: 1, 2, 4


def flag_bits(flags: frozenset[str] | set[str]) -> int:
    return sum(1 << i for i, f in enumerate(FLAGS) if f in flags)


def flag_mask(policy: Policy) -> int:
    """The flags some tier of the policy asks about, as bits (a project's other flags change nothing)."""
    return flag_bits({f for t in policy.tiers for f in t.requires})


def flag_sets(policy: Policy) -> list[frozenset[str]]:
    """Every combination of the flags the policy asks about (one, the empty set, where it asks none)."""
    mask = flag_mask(policy)
    return [frozenset(f for i, f in enumerate(FLAGS) if bits & (1 << i)) for bits in range(8) if bits & ~mask == 0]


def groups(policy: Policy) -> list[str]:
    """The policy's place groups (its others' id included), or [""] where it has none."""
    return (policy.place.group_ids if policy.place else []) or [""]


def _part_rates(tier: Tier, granted: Decimal | None):
    """Each part with the rate it pays: its own, or under a granted rate, the first part that is not
    exact takes what the others leave (a granted rate is the whole rate)."""
    from types import SimpleNamespace

    if granted is None or granted == tier.rate or not tier.parts:
        return [SimpleNamespace(payer=p.payer, rate=p.rate) for p in tier.parts]
    flexible = next((i for i, p in enumerate(tier.parts) if p.rate_type != "exact"), 0)
    others = sum((p.rate for i, p in enumerate(tier.parts) if i != flexible), Decimal(0))
    return [SimpleNamespace(payer=p.payer, rate=granted - others if i == flexible else p.rate) for i, p in enumerate(tier.parts)]


def rules(policies: list[LoadedPolicy], reading: str | None = None, granted: Decimal | None = None) -> list[Rule]:
    """Every rule of the policies: one for each policy, category, kind, place group and set of the
    flags the policy asks about."""
    return [rule(lp, c, k, reading, granted, g or None, f) for lp in policies for c in CATEGORIES for k in KINDS
            for g in groups(lp.policy) for f in flag_sets(lp.policy)]


@dataclass(frozen=True)
class PlaceRow:
    """How a policy sees the places under one GB/T 2260 code (the most precise code listed wins)."""

    policy: str
    code: str
    state: str  # in, excluded
    group: str  # "" where the policy has no groups
    reason: str  # for excluded places: why nothing is paid


def place_rows(policy: Policy) -> list[PlaceRow]:
    """The codes a policy's [place] lists, each with what it means for a project there: inside the
    area (and in which group), or excluded. A place is outside where no code over it is listed."""
    area = policy.place
    if area is None:
        return []
    out = {c: PlaceRow(policy.id, c, "in", area.others or "", "") for c in area.within}
    for g in area.groups:
        out.update({c: PlaceRow(policy.id, c, "in", g.id, "") for c in g.places})
    out.update({c: PlaceRow(policy.id, c, "excluded", "", f"excluded: place ({area.citation or area.reading})") for c in area.excludes})
    return list(out.values())


@dataclass(frozen=True)
class YearRow:
    """Which policy scores a year, its status, and the year's USD rate where a row has none."""

    year: int
    policy: str | None
    status: str | None
    error: str | None  # no policy for the year (or a forced one outside its dates)
    usd_rate: Decimal | None
    usd_error: str | None
    status_reason: str | None = None  # a forced policy before or after its dates: why it pays nothing


def status_reason(policy: Policy, status: str) -> str | None:
    """Why a year outside a policy's dates pays nothing (the cells' English), else None."""
    if status == "not_yet":
        return f"not yet in force: {policy.id} applies from {policy.effective.from_}"
    if status == "expired":
        return f"expired: {policy.id} applied to {policy.effective.to} ({policy.effective.cited})"
    return None


@in_english
def years(policies: list[LoadedPolicy], forced: LoadedPolicy | None, fx_rate: Decimal | None) -> list[YearRow]:
    """One row for each year a project-year may name (1900-2200)."""
    from .fx import RateChain

    chain = RateChain()
    out = []
    for y in YEARS:
        policy = status = error = why = None
        try:
            lp = forced or policy_for_year(y, tuple(policies))
            status, policy = lp.policy.status_in(y), lp.policy.id  # (a forced policy outside its dates pays nothing)
            why = status_reason(lp.policy, status)
        except PolicyError as exc:
            error = str(exc) if forced is not None else no_policy_message(y, tuple(policies))
        usd, usd_error = fx_rate, None
        if usd is None:
            try:
                usd = chain.quote("USD", on=None, year=y).rate
            except FxError as exc:
                usd_error = str(exc)
        out.append(YearRow(y, policy, status, error, usd, usd_error, why))
    return out
