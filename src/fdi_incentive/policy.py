"""Policy files: their schema, strict loading, and choosing the version in force for a year.

A policy is data with citations (see ``policies/*.toml``). This module validates
and loads it; it never computes a payout. Its values are in `policy_values`, its parts in
`policy_parts` (both named here too, for the modules that import them from here).
"""


import sys
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from . import money, policy_parts, policy_values, validation
from .errors import PolicyError, UnknownPolicy
from .i18n import N_, _, pick
from .kept import kept
from .policy_parts import (COMBINE_NAMES, COMPARATOR_WORDS, FLAG_NAMES, Base, Cap, Caveat, Combine, Conversion, Effective,  # noqa: F401
                           Exclusions, Flag, Part, PeriodCap, Place, PlaceGroup, Rounding, SourcePeriod, Stacking, Threshold,
                           Tier, TierCap)
from .policy_values import (CATEGORY_NAMES, KIND_NAMES, KIND_SHORT_NAMES, MAX_CAVEATS, MAX_KEY_PARTS,  # noqa: F401
                            MAX_POLICY_BYTES, MAX_TIERS, RATE_TYPE_NAMES, RELIABILITY_NAMES, ROLE_NAMES, ROUNDING_NAMES,
                            SOURCE_ROLES, STACKING_NAMES, TYPE_NAMES, Category, ContributionType, Kind, PolicyStatus,
                            Reading, Reliability, Said, Source, _Strict, category_name, toml_key_too_deep)
from .validation import describe_validation_error

# the reliabilities, most trusted first (a policy's confidence is the best among the sources quoting its clause)
RELIABILITY_ORDER = ("official", "official_restatement", "mirror", "secondary", "unverified")


class Policy(_Strict):
    """One version of one jurisdiction's reward rule, with its sources and caveats.

    Limits: a policy file holds at most 256 KiB, 50 tiers, 100 caveats and 2,000 excluded codes;
    a text at most 4,000 characters; amounts are below 10^14, rates have at most 8 decimals."""

    schema_version: Literal[2]
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    title_zh: str | None = Field(None, description="a Chinese name we gave the rule, not a title any source uses")
    jurisdiction: str
    jurisdiction_zh: str | None = Field(None, description="the jurisdiction in Chinese, shown under --lang zh")
    payout_currency: Literal["CNY"]
    family: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]*$",
                               description="versions of one jurisdiction's rule share a family; absent: the id")
    place: Place | None = Field(None, description="where the policy applies; absent: wherever it is asked")
    combines: list[Combine] = Field([], max_length=5, description="how it combines with another family's policy")
    effective: Effective
    source_period: SourcePeriod | None = Field(
        default=None, description="the period the source covers; absent: the whole of [effective]",
    )
    sources: list[Source] = Field(min_length=1, description="every source, each with its role; one at least quotes the clause")
    base: Base
    tiers: list[Tier] = Field(min_length=1, max_length=MAX_TIERS, description=f"at least 1, at most {MAX_TIERS} tiers")
    exclusions: Exclusions
    stacking: Stacking
    cap: Cap
    conversion: Conversion
    rounding: Rounding
    caveats: list[Caveat] = Field([], max_length=MAX_CAVEATS, description=f"at most {MAX_CAVEATS} caveats")

    @model_validator(mode="before")
    @classmethod
    def _old_layout(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw.get("schema_version") == 1:
            raise ValueError(_(
                "schema_version 1 is the old layout (one [source] table); write schema_version = 2 with "
                "[[sources]] tables, each with a role (text, restatement or summary), what was seen, and the "
                "clause as quote where that source quotes it (see the shipped policies: fdi policy show cn-cq-2023 --json)"
            ))
        return raw

    @model_validator(mode="after")
    def _quoted(self) -> "Policy":
        if not any(s.quote for s in self.sources):
            raise ValueError(_("no source quotes the clause: give the clause, verbatim, as quote in the source that gives it"))
        return self

    @property
    def clause_source(self) -> Source:
        """The source whose quote of the clause the file follows (the first that quotes it)."""
        return next(s for s in self.sources if s.quote)

    @model_validator(mode="after")
    def _unique_tiers(self) -> "Policy":
        ids = [t.id for t in self.tiers]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(_("tier ids must be unique; {ids} appears more than once").format(ids=_(", ").join(dupes)))
        return self

    @model_validator(mode="after")
    def _source_period_within_effective(self) -> "Policy":
        sp, eff = self.source_period, self.effective
        if sp is None:
            return self
        if sp.from_ != eff.from_:
            raise ValueError(_(
                "source_period.from ({source}) must equal effective.from ({effective}): "
                "a rule is applied from the start its source states, never before it"
            ).format(source=sp.from_, effective=eff.from_))
        if eff.to is not None and (sp.to is None or sp.to > eff.to):
            raise ValueError(_("source_period.to ({source}) must not be after effective.to ({effective})").format(
                source=sp.to or _("none"), effective=eff.to))
        return self

    @model_validator(mode="after")
    def _tiers_fit(self) -> "Policy":
        groups = set(self.place.group_ids) if self.place else set()
        for t in self.tiers:
            unknown = sorted(set(t.groups) - groups)
            if unknown:
                raise ValueError(_("tier {tier}: no place group {groups} (give it in [place])").format(
                    tier=t.id, groups=_(", ").join(unknown)))
            kinds = sorted(set(t.kinds) - set(self.base.kinds))
            if kinds:
                raise ValueError(_("tier {tier}: kind {kinds} is not one [base] counts").format(tier=t.id, kinds=_(", ").join(kinds)))
        return self

    @property
    def family_id(self) -> str:
        return self.family or self.id

    @property
    def confidence(self) -> str:
        """The best reliability among the sources that quote the clause."""
        return min((s.reliability for s in self.sources if s.quote), key=RELIABILITY_ORDER.index)

    def shapes_calc_only(self) -> list[str]:
        """The shapes of this rule that only calc, plan and compare score so far: the batch, the SQL
        and Spark refuse a policy with any of them rather than pay it wrongly."""
        shapes = []
        if self.place and (self.place.groups or self.place.excludes):
            shapes.append(N_("place groups and excluded places"))
        if any(t.kinds or t.groups or t.requires for t in self.tiers):
            shapes.append(N_("tiers for some kinds, places or flags only"))
        if any(t.below is not None for t in self.tiers):
            shapes.append(N_("bands with an upper bound"))
        if any(t.period_cap for t in self.tiers):
            shapes.append(N_("caps over a period of years"))
        if any(t.parts for t in self.tiers):
            shapes.append(N_("parts paid by different governments"))
        if self.base.measure != "paid_in":
            shapes.append(N_("a base of the amount spent"))
        if self.base.period != "calendar_year":
            shapes.append(N_("a reward year other than the calendar year"))
        if self.combines:
            shapes.append(N_("a combination with another policy"))
        return shapes

    def shapes_plan_cannot(self) -> list[tuple[str, str]]:
        """The shapes of this rule `fdi plan` cannot plan, each with why (untranslated: `_()` them)."""
        why = []
        if self.place and self.place.groups or any(t.groups for t in self.tiers):  # (an excluded place alone: the plan is for a place inside)
            why.append((N_("place groups"), N_("the plan takes no place, and the threshold depends on it")))
        if any(t.requires for t in self.tiers):
            why.append((N_("tiers for flags"), N_("the plan takes no high-tech, hnte or priority flag")))
        if any(t.period_cap for t in self.tiers):
            why.append((N_("a cap over a period"), N_("a year's reward would depend on the years before it, which the "
                                                      "plan's year-by-year search does not carry")))
        if self.base.measure != "paid_in":
            why.append((N_("a base of the amount spent"), N_("the plan schedules capital paid in, not spent")))
        if self.base.period != "calendar_year":
            why.append((N_("an October-September year"), N_("the plan schedules calendar years")))
        return why

    def refuse_shapes_calc_only(self) -> None:
        """A PolicyError naming the shapes only calc scores so far, if this rule has any."""
        shapes = self.shapes_calc_only()
        if shapes:
            raise PolicyError(_("{policy} has shapes the batch, fdi sql and Spark do not score yet ({shapes}): "
                                "use fdi calc or fdi compare for it").format(
                policy=self.id, shapes=_(", ").join(_(s) for s in shapes)))

    def status_in(self, year: int) -> PolicyStatus:
        """The year's status, any year: not_yet before the rule starts, expired after the end it
        has; else as `status_for`."""
        if year < self.effective.from_.year:
            return "not_yet"
        if self.effective.to is not None and year > self.effective.to.year:
            return "expired"
        return self.status_for(year)

    def status_for(self, year: int) -> PolicyStatus:
        """"in_force" inside the period the source states; "assumed_continuation" for a later year
        we apply the rule to (inside ``[effective]``). A year outside ``[effective]`` is a PolicyError."""
        if not self.effective.covers(year):
            raise PolicyError(outside_dates_message(self, year))
        sp = self.source_period
        return "in_force" if sp is None or sp.covers(year) else "assumed_continuation"


class LoadedPolicy(BaseModel):
    """A validated policy together with where it came from (for audit trails)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    policy: Policy
    origin: str
    sha256: str


def parse_policy(text: str, origin: str) -> LoadedPolicy:
    """Validate the text of a policy file strictly; raise PolicyError naming every problem.
    A byte order mark before the text is passed over (the hash is of the text as given)."""
    import hashlib
    import tomllib

    if len(text) > MAX_POLICY_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        raise PolicyError(_("{origin}: a policy file holds at most {most} bytes").format(origin=origin, most=f"{MAX_POLICY_BYTES:,}"))
    if toml_key_too_deep(text):
        raise PolicyError(_("{origin}: not valid TOML: tables nested too deep "
                            "(a key of more than {most} dotted parts)").format(origin=origin, most=MAX_KEY_PARTS))
    try:
        raw = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(_("{origin}: not valid TOML: {reason}").format(origin=origin, reason=exc)) from None
    except RecursionError:
        raise PolicyError(_("{origin}: not valid TOML: arrays or tables nested too deep").format(origin=origin)) from None
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(describe_validation_error(exc, origin, Policy)) from None
    return LoadedPolicy(policy=policy, origin=origin, sha256=hashlib.sha256(text.encode()).hexdigest())


def load_policy_file(path: str | Path) -> LoadedPolicy:
    """Load and validate a user's policy file."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_POLICY_BYTES + 1)
        if len(data) > MAX_POLICY_BYTES:
            raise PolicyError(_("{origin}: a policy file holds at most {most} bytes").format(origin=path, most=f"{MAX_POLICY_BYTES:,}"))
        text = data.decode("utf-8")
    except OSError as exc:
        raise PolicyError(_("{path}: cannot read policy file: {reason}").format(path=path, reason=exc.strerror)) from None
    except UnicodeDecodeError:
        raise PolicyError(_("{path}: a policy file must be UTF-8 text").format(path=path)) from None
    return parse_policy(text, str(path))


@cache
def bundled_policies() -> tuple[LoadedPolicy, ...]:
    """The policies shipped with the package, oldest first: validated once, and kept (`kept`) for
    the runs after, while neither the files nor the code that validates them change."""
    folder = Path(__file__).with_name("policies")
    if not folder.is_dir():  # (a package in a zip file, say)
        from importlib import resources

        folder = resources.files(__package__).joinpath("policies")
    entries = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".toml")), key=lambda e: e.name)

    def parsed() -> tuple[LoadedPolicy, ...]:
        loaded = [parse_policy(entry.read_text(encoding="utf-8"), f"policies/{entry.name}") for entry in entries]
        return tuple(sorted(loaded, key=lambda lp: lp.policy.effective.from_))

    if not isinstance(folder, Path):  # (a package in a zip file: nothing is kept)
        return parsed()
    code = [Path(module.__file__) for module in (sys.modules[__name__], money, validation, policy_parts, policy_values)]
    return kept(folder / "__pycache__" / f"bundled.{sys.implementation.cache_tag}.pickle", [*code, *entries], parsed)


def get_policy(ref: str | Path) -> LoadedPolicy:
    """A shipped policy by id, or a policy file by path."""
    for lp in bundled_policies():
        if lp.policy.id == str(ref):
            return lp
    path = Path(ref)
    if path.suffix == ".toml" or path.exists():
        return load_policy_file(path)
    known = _(", ").join(lp.policy.id for lp in bundled_policies())
    expected = _("a shipped policy ({known}) or a policy file").format(known=known)
    raise UnknownPolicy("policy", str(ref), expected, _("policy: {ref} is neither a shipped policy ({known}) nor a policy file").format(
        ref=repr(str(ref)), known=known))


# the family scored where no place and no policy is given: Chongqing's municipal rule
DEFAULT_FAMILY = "cn-cq"


def family_versions(family: str = DEFAULT_FAMILY) -> tuple[LoadedPolicy, ...]:
    """The shipped versions of one family's rule, oldest first (Chongqing's by default)."""
    return tuple(lp for lp in bundled_policies() if lp.policy.family_id == family)


def policy_for_year(year: int, candidates: tuple[LoadedPolicy, ...] | None = None) -> LoadedPolicy:
    """The policy version in force in ``year`` (among Chongqing's versions by default)."""
    candidates = family_versions() if candidates is None else candidates
    for lp in reversed(candidates):
        if lp.policy.effective.covers(year):
            return lp
    raise PolicyError(no_policy_message(year, candidates))


def covered_period(policy: "Policy") -> str:
    """The period a policy's source covers, as a reader is told it, with our reading of it where the
    source does not state it in so many words: "2023-2024, the period its source covers (our reading: ...)"."""
    sp = policy.source_period or policy.effective
    reading = pick(sp.reading, sp.reading_zh) if sp.reading else None
    return (_("{span}, the period its source covers (our reading: {reading})") if reading
            else _("{span}, the period its source covers")).format(span=sp.span, reading=reading)


def outside_dates_message(policy: "Policy", year: int | str) -> str:
    """Why a policy cannot score a year outside its dates, naming them."""
    eff = policy.effective
    return (_("year: {policy} applies to {span} ({start} to {end}), not to {year}; choose a year in its dates or another policy")
            if eff.to else
            _("year: {policy} applies to {span} ({start} to no end date), not to {year}; choose a year in its dates or "
              "another policy")).format(policy=policy.id, span=eff.span, start=eff.from_, end=eff.to, year=year)


def no_policy_message(year: int | str, candidates: tuple[LoadedPolicy, ...] | None = None) -> str:
    candidates = family_versions() if candidates is None else candidates
    spans = _("; ").join(_("{policy} covers {span}").format(policy=lp.policy.id, span=lp.policy.effective.span) for lp in candidates)
    return _("year: no policy is in force in {year} ({spans})").format(year=year, spans=spans)
