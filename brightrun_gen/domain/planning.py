"""Building the plan: balanced rows that only pair what fits, deterministic for a seed.

Every pick takes the least-used option that fits (persona, arc, topic, scenario, edge case, tone,
intent, outcome and each variation axis), so a plan of any size spreads evenly; ties are broken
by an order shuffled once from the seed, so the same seed gives the same plan. Rows already in
the store are counted first and never changed: extending a plan only adds rows.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from brightrun_gen.domain.fit import fits, narrowed
from brightrun_gen.domain.models import Catalog, Dimensions, PlannedRow, Variation
from brightrun_gen.domain.quality import RULES_BY_NAME
from brightrun_gen.errors import InputError

DEFAULT_SIZE = 90
DEFAULT_TIERS = (40, 35, 15)
DEFAULT_SEED = 12
KEY_PREFIX = {1: "T1", 2: "T2", 3: "T3"}
_KEY = re.compile(r"^T([123])-(\d+)$")
# How long a conversation should be: Tier 2 by the scenario's complexity, the rest over the range.
TURNS_BY_COMPLEXITY = {"low": (8, 10, 12), "medium": (10, 12, 14), "high": (12, 14, 16)}
EDGE_CASE_TURNS = (10, 12, 14, 16)
# Relative frequency of the two-valued axes: pushing back once is the exception, not the rule.
PUSHBACK_WEIGHTS = {False: 2, True: 1}
SUB_ISSUE_WEIGHTS = {1: 2, 2: 2, 3: 1}


@dataclass(frozen=True)
class PlanRequest:
    """How big the plan should be, how it splits over the tiers, and the seed for its ties."""

    size: int = DEFAULT_SIZE
    tiers: tuple[int, int, int] = DEFAULT_TIERS
    seed: int = DEFAULT_SEED

    def targets(self) -> dict[int, int]:
        """Rows per tier for `size`, split by the `tiers` shares (largest remainder)."""
        if self.size < 0 or len(self.tiers) != 3 or any(t < 0 for t in self.tiers) or not sum(self.tiers):
            raise InputError(f"plan size {self.size} with tiers {self.tiers}: expected a size >= 0 and three "
                             "shares >= 0 that are not all 0, e.g. 40:35:15")
        total = sum(self.tiers)
        exact = [self.size * t / total for t in self.tiers]
        counts = [int(x) for x in exact]
        for i in sorted(range(3), key=lambda i: exact[i] - counts[i], reverse=True)[: self.size - sum(counts)]:
            counts[i] += 1
        return {tier: counts[tier - 1] for tier in (1, 2, 3)}


def parse_tiers(text: str) -> tuple[int, int, int]:
    """'40:35:15' -> (40, 35, 15)."""
    parts = text.split(":")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        raise InputError(f"--tiers {text!r}: expected three whole numbers such as 40:35:15")
    return tuple(int(p) for p in parts)  # type: ignore[return-value]


def seed_stories(dimensions: Iterable[Dimensions]) -> set[tuple]:
    """What seed conversations are about: no planned row re-runs one.

    A scenario or edge case is taken as a whole; a Tier 1 story is its persona, topic and arc.
    """
    taken: set[tuple] = set()
    for d in dimensions:
        if d.scenario:
            taken.add(("scenario", d.scenario))
        if d.edge_case:
            taken.add(("edge_case", d.edge_case))
        if d.arc:
            taken.add(("arc", d.persona, d.topic, d.arc))
    return taken


def build_plan(catalog: Catalog, request: PlanRequest = PlanRequest(), *, existing: Sequence[PlannedRow] = (),
               seeds: Iterable[Dimensions] = ()) -> list[PlannedRow]:
    """The rows to add so the plan has `request.size` rows, balanced against `existing`."""
    planner = Planner(catalog, request.seed, existing, seeds)
    have = Counter(r.dimensions.tier for r in existing)
    wanted = request.targets()
    rows: list[PlannedRow] = []
    # The most constrained tiers first, so Tier 1 can even out the personas they leave uneven.
    for tier in (3, 2, 1):
        for _ in range(max(0, wanted[tier] - have[tier])):
            rows.append(planner.row(tier))
    return sorted(rows, key=lambda r: (r.dimensions.tier, r.key))


class Planner:
    """Picks rows one at a time, counting everything already picked."""

    def __init__(self, catalog: Catalog, seed: int, existing: Sequence[PlannedRow] = (),
                 seeds: Iterable[Dimensions] = ()):
        self.catalog = catalog
        self.rng = random.Random(seed)
        self.taken = seed_stories(seeds)
        self.topics = {t.key: t for t in catalog.topics}
        self.arcs = {a.key: a for a in catalog.arcs}
        self.emotions = {e.key: e for e in catalog.emotions}
        self.personas = [p for p in catalog.personas if p.facts is not None]
        self.rank = {}
        for group in (self.personas, catalog.arcs, catalog.topics, catalog.scenarios, catalog.edge_cases,
                      catalog.tones, catalog.intents, catalog.outcome_types, catalog.openings, catalog.channels,
                      catalog.verbosity):
            keys = [e.key for e in group]
            self.rng.shuffle(keys)
            self.rank.update({key: i for i, key in enumerate(keys)})
        self._fitting()
        self.count: Counter = Counter()
        self.next_number = {1: 1, 2: 1, 3: 1}
        for row in existing:
            self._tally(row)
            match = _KEY.match(row.key)
            if match:
                tier, number = int(match.group(1)), int(match.group(2))
                self.next_number[tier] = max(self.next_number[tier], number + 1)

    def _fitting(self) -> None:
        """Which personas fit which topic, scenario and edge case: computed once."""
        self.topic_personas = {t.key: [p.key for p in self.personas if fits(p, t.requires)] for t in self.catalog.topics}
        self.scenario_personas = {
            s.key: [p.key for p in self.personas if fits(p, s.requires, narrowed(self.topics[s.topic].requires, s.requires))]
            for s in self.catalog.scenarios if ("scenario", s.key) not in self.taken}
        self.edge_personas = {
            e.key: [p.key for p in self.personas if fits(p, e.requires, narrowed(self.topics[e.topic].requires, e.requires))]
            for e in self.catalog.edge_cases if ("edge_case", e.key) not in self.taken}
        self.persona_arc_topics = {(p.key, a.key): self._tier1_topics(p, a) for p in self.personas
                                   for a in self.catalog.arcs}

    def _tier1_topics(self, persona, arc) -> list[str]:
        """Topics a Tier 1 row of this persona and arc can be about (and no seed already is)."""
        if not fits(persona, arc.requires):
            return []
        return [t for t, who in self.topic_personas.items()
                if persona.key in who and (self.topics[t].arcs is None or arc.key in self.topics[t].arcs)
                and ("arc", persona.key, t, arc.key) not in self.taken]

    # --- choosing --------------------------------------------------------------------------

    def _least(self, options: Iterable, *scores) -> object:
        """The option with the lowest (scores..., seeded rank): the least used, ties seeded."""
        options = list(options)
        if not options:
            raise InputError("the catalog leaves no option for a planned row: run `brightrun plan check`")
        return min(options, key=lambda o: (*(score(o) for score in scores), self.rank.get(o, 0), str(o)))

    def feasible(self, tier: int, persona: str | None = None, arc: str | None = None,
                 category: str | None = None) -> bool:
        """Whether a row of `tier` can be made with this persona (and arc or content category)."""
        try:
            self._choose(tier, persona, arc, category)
        except InputError:
            return False
        return True

    def row(self, tier: int, persona: str | None = None, arc: str | None = None,
            category: str | None = None) -> PlannedRow:
        """The next row of `tier`, optionally for a given persona, arc or content category."""
        dims = self._choose(tier, persona, arc, category)
        key = f"{KEY_PREFIX[tier]}-{self.next_number[tier]:03d}"
        self.next_number[tier] += 1
        row = PlannedRow(key=key, dimensions=dims, variation=self._variation(dims))
        self._tally(row)
        return row

    def _choose(self, tier, persona, arc, category) -> Dimensions:
        if tier == 1:
            return self._tier1(persona, arc, category)
        if tier == 2:
            return self._tier2(persona)
        return self._tier3(persona)

    def _tier1(self, persona, arc, category) -> Dimensions:
        def topics_for(p, a):
            found = self.persona_arc_topics[(p, a)]
            return [t for t in found if category is None or self.topics[t].content_category == category]

        arcs = [arc] if arc else [a.key for a in self.catalog.arcs]
        personas = [persona] if persona else [p.key for p in self.personas]
        pairs = [(p, a) for p in personas for a in arcs if topics_for(p, a)]
        c = self.count
        a = self._least({a for _, a in pairs}, lambda a: c["t1arc", a])
        p = self._least([p for p, x in pairs if x == a], lambda p: c["persona", p], lambda p: c["persona_arc", p, a])
        t = self._least(topics_for(p, a), lambda t: c["story", p, t, a], lambda t: c["persona_topic", p, t],
                        lambda t: c["t1cat", self.topics[t].content_category], lambda t: c["topic", t])
        arc_entry = self.arcs[a]
        return self._dims(1, p, t, arc_entry.start_emotion, arc_entry.end_emotion, arc_entry.fit, arc=a)

    def _tier2(self, persona) -> Dimensions:
        key, p = self._story(self.scenario_personas, "scenario", persona)
        scenario = next(s for s in self.catalog.scenarios if s.key == key)
        arc = self.arcs[scenario.arc]
        return self._dims(2, p, scenario.topic, arc.start_emotion, arc.end_emotion, arc.fit, arc=arc.key,
                          scenario=key)

    def _tier3(self, persona) -> Dimensions:
        key, p = self._story(self.edge_personas, "edge", persona)
        edge = next(e for e in self.catalog.edge_cases if e.key == key)
        return self._dims(3, p, edge.topic, edge.start_emotion, edge.end_emotion, edge.fit, edge_case=key)

    def _story(self, fits: dict[str, list], kind: str, persona) -> tuple[str, str]:
        """The least-used scenario or edge case (`kind`) that `persona` fits (or any persona, when None),
        and the persona for it: the given one, or the one that has had this story least."""
        c = self.count
        options = [k for k, who in fits.items() if who and (persona is None or persona in who)]
        key = self._least(options, lambda k: c[kind, k])
        who = [persona] if persona else fits[key]
        return key, self._least(who, lambda p: c["persona_story", p, key], lambda p: c["persona", p])

    def _dims(self, tier, persona, topic_key, start, end, fit, **storyline) -> Dimensions:
        """Dimensions with a tone, intent and outcome that fit the storyline and the start emotion."""
        c = self.count
        story = storyline.get("edge_case") or storyline.get("arc")
        unsuited = set(self.emotions[start].unsuited_tones)
        tone = self._least([t for t in fit.tones if t not in unsuited], lambda t: c["story_tone", story, t],
                           lambda t: c["tone", t])
        intent = self._least(fit.intents, lambda i: c["story_intent", story, i], lambda i: c["intent", i])
        outcome = self._least(fit.outcomes, lambda o: c["story_outcome", story, o], lambda o: c["outcome", o])
        topic = self.topics[topic_key]
        return Dimensions(tier=tier, persona=persona, emotion_start=start, emotion_end=end, topic=topic.key,
                          content_category=topic.content_category, topic_cluster=topic.topic_cluster,
                          intent=intent, tone=tone, outcome_type=outcome, **storyline)

    def _variation(self, dims: Dimensions) -> Variation:
        c = self.count
        turns = self._least(self._turn_options(dims), lambda n: c["turns_tier", dims.tier, n], lambda n: c["turns", n])
        pushback = self._least(PUSHBACK_WEIGHTS, lambda v: c["pushback", v] / PUSHBACK_WEIGHTS[v])
        sub_issues = self._least(SUB_ISSUE_WEIGHTS, lambda v: c["sub_issues", v] / SUB_ISSUE_WEIGHTS[v])
        return Variation(
            target_turns=turns,
            opening=self._least([o.key for o in self.catalog.openings], lambda o: c["opening", dims.persona, o],
                                lambda o: c["opening", o]),
            channel=self._least([o.key for o in self.catalog.channels], lambda o: c["channel", o]),
            verbosity=self._least([o.key for o in self.catalog.verbosity], lambda o: c["verbosity", dims.persona, o],
                                  lambda o: c["verbosity", o]),
            pushback=pushback,
            sub_issues=sub_issues,
        )

    def _turn_options(self, dims: Dimensions) -> tuple[int, ...]:
        rule = RULES_BY_NAME["turn_count"]
        if dims.scenario:
            complexity = next(s.complexity for s in self.catalog.scenarios if s.key == dims.scenario)
            options = TURNS_BY_COMPLEXITY[complexity]
        elif dims.edge_case:
            options = EDGE_CASE_TURNS
        else:
            options = tuple(range(rule.low, rule.high + 1, 2))
        return tuple(n for n in options if rule.low <= n <= rule.high and n % 2 == 0)

    def _tally(self, row: PlannedRow) -> None:
        d, c = row.dimensions, self.count
        story = d.edge_case or d.arc
        c.update([("persona", d.persona), ("topic", d.topic), ("tone", d.tone), ("intent", d.intent),
                  ("outcome", d.outcome_type), ("story_tone", story, d.tone), ("story_intent", story, d.intent),
                  ("story_outcome", story, d.outcome_type), ("persona_topic", d.persona, d.topic)])
        if d.tier == 1:
            c.update([("t1arc", d.arc), ("persona_arc", d.persona, d.arc), ("story", d.persona, d.topic, d.arc),
                      ("t1cat", d.content_category)])
        if d.scenario:
            c.update([("scenario", d.scenario), ("persona_story", d.persona, d.scenario)])
        if d.edge_case:
            c.update([("edge", d.edge_case), ("persona_story", d.persona, d.edge_case)])
        v = row.variation
        if v is not None:
            c.update([("turns_tier", d.tier, v.target_turns), ("turns", v.target_turns), ("pushback", v.pushback),
                      ("sub_issues", v.sub_issues), ("opening", d.persona, v.opening), ("opening", v.opening),
                      ("channel", v.channel), ("verbosity", d.persona, v.verbosity), ("verbosity", v.verbosity)])
