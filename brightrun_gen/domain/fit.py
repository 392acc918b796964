"""Whether a persona fits a catalog item: its facts against the item's requirements.

Pure code shared by the plan builder (which only pairs what fits) and the plan linter (which
reports what does not). A violation names both sides in words a planner reads: what the persona's
profile states and what the item requires.
"""

from __future__ import annotations

from dataclasses import dataclass

from brightrun_gen.domain.models import ChildrenRule, Persona, PersonaFacts, Requirements

# A figure stated in prose ("about $150,000") still agrees with the profile within this share.
AMOUNT_TOLERANCE = 0.05


@dataclass(frozen=True)
class Violation:
    """One requirement a persona does not meet: the persona's side and the item's side."""

    fact: str  # what the persona states, e.g. "household = married"
    requirement: str  # what the item needs, e.g. "requires household: divorced"


def violations(persona: Persona, requires: Requirements | None) -> list[Violation]:
    """Every requirement of `requires` that `persona` does not meet (none when it fits)."""
    if requires is None:
        return []
    if persona.facts is None:
        return [Violation("no facts (a persona created by an import)", "requires a persona with facts")]
    facts = persona.facts
    found: list[Violation] = []
    if requires.personas is not None and persona.key not in requires.personas:
        found.append(Violation(f"persona = {persona.key}", f"is re-targeted to {_words(requires.personas)}"))
    found += _age(facts, requires)
    for name in ("life_stage", "employment", "household", "housing", "income_band"):
        allowed = getattr(requires, name)
        value = getattr(facts, name)
        if allowed is not None and value not in allowed:
            found.append(Violation(f"{name} = {value}", f"requires {name}: {_words(allowed)}"))
    if requires.expecting_child is not None and facts.expecting_child != requires.expecting_child:
        found.append(Violation(f"expecting_child = {str(facts.expecting_child).lower()}",
                               f"requires expecting_child = {str(requires.expecting_child).lower()}"))
    if requires.children is not None:
        found += _children(facts.children, requires.children)
    if requires.accounts is not None and not set(requires.accounts) & set(facts.accounts):
        found.append(Violation(f"accounts = {_list(facts.accounts)}", f"requires an account: {_words(requires.accounts)}"))
    for name in ("debts", "plans"):
        wanted = getattr(requires, name) or []
        missing = [w for w in wanted if w not in getattr(facts, name)]
        if missing:
            found.append(Violation(f"{name} = {_list(getattr(facts, name))}", f"requires {name}: {_words(missing, 'and')}"))
    present = [d for d in requires.no_debts or [] if d in facts.debts]
    if present:
        found.append(Violation(f"debts = {_list(facts.debts)}", f"requires no {_words(present, 'or')} debt"))
    found += _amounts(facts, requires.amounts or {})
    return found


def fits(persona: Persona, *requirements: Requirements | None) -> bool:
    return all(not violations(persona, r) for r in requirements)


def narrowed(general: Requirements | None, specific: Requirements | None) -> Requirements | None:
    """`general` without the fields `specific` sets: a scenario's own rule beats its topic's.

    "Divorce finances" needs a divorced client, but the edge case about filing needs a married one.
    """
    if general is None or specific is None:
        return general
    overridden = {name: None for name in specific.model_fields_set if getattr(specific, name) is not None}
    return general.model_copy(update=overridden)


def _age(facts: PersonaFacts, requires: Requirements) -> list[Violation]:
    rule = requires.age
    if rule is None:
        return []
    low = rule.min if rule.min is not None else 0
    high = rule.max if rule.max is not None else 200
    if low <= facts.age <= high:
        return []
    return [Violation(f"age = {facts.age}", f"requires age {_range(rule.min, rule.max)}")]


def _children(ages: list[int], rule: ChildrenRule) -> list[Violation]:
    fact = f"children = {_list(ages) if ages else 'none'}"
    problems = []
    if len(ages) < rule.count_min:
        problems.append(f"at least {rule.count_min} child{'ren' if rule.count_min > 1 else ''}")
    if rule.count_max is not None and len(ages) > rule.count_max:
        problems.append(f"at most {rule.count_max} children")
    if ages and rule.youngest_max is not None and min(ages) > rule.youngest_max:
        problems.append(f"a child aged {rule.youngest_max} or younger")
    if ages and (rule.oldest_min is not None or rule.oldest_max is not None):
        if not (rule.oldest_min or 0) <= max(ages) <= (rule.oldest_max if rule.oldest_max is not None else 200):
            problems.append(f"the oldest child aged {_range(rule.oldest_min, rule.oldest_max)}")
    return [Violation(fact, f"requires {p}") for p in problems]


def _amounts(facts: PersonaFacts, stated: dict[str, int]) -> list[Violation]:
    found = []
    for name, value in stated.items():
        own = facts.amounts.get(name)
        if own is not None and abs(own - value) > AMOUNT_TOLERANCE * max(abs(own), 1):
            found.append(Violation(f"{name} = {_money(own)}", f"states {name} = {_money(value)}"))
    return found


def _range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"{low}" if low == high else f"{low}-{high}"
    return f"{low} or more" if low is not None else f"{high} or less"


def _words(values, joiner: str = "or") -> str:
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} {joiner} {values[-1]}"


def _list(values) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _money(value: int) -> str:
    return f"${value:,}"
