"""The plan linter: every contradiction in a plan, with the two facts and where each is defined.

A contradiction is a planned row whose parts disagree: a persona that does not meet its topic's,
scenario's or edge case's requirements, a tone the start emotion rules out, an intent or outcome
outside the storyline's fit, a row that re-runs a seed conversation. The catalog itself is checked
too: an item no persona fits can never be planned.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

from brightrun_gen.domain.fit import narrowed, violations
from brightrun_gen.domain.models import Catalog, Dimensions, PlannedRow
from brightrun_gen.domain.planning import seed_stories
from brightrun_gen.domain.quality import RULES_BY_NAME


@dataclass(frozen=True)
class Fact:
    """One side of a contradiction: what is stated, and the file and entry that state it."""

    statement: str
    where: str


@dataclass(frozen=True)
class Contradiction:
    row: str  # a row key, or "catalog" for a problem of the catalog itself
    first: Fact
    second: Fact

    def line(self) -> str:
        return (f"{self.row}: {self.first.statement} ({self.first.where}) "
                f"contradicts {self.second.statement} ({self.second.where})")

    def as_dict(self) -> dict:
        return asdict(self)


def _where(section: str, key: str) -> str:
    return f"{section}.yaml: {key}"


def check_plan(rows: Sequence[PlannedRow], catalog: Catalog, seeds: Iterable[tuple[str, Dimensions]] = ()) -> list[Contradiction]:
    """Every contradiction among `rows` (planned rows with their variation, when they have one)."""
    seeds = list(seeds)
    index = _Index(catalog)
    taken = {story: key for key, dims in seeds for story in seed_stories([dims])}
    found: list[Contradiction] = []
    for row in rows:
        found += _check_row(row, index, taken)
    return found


def check_catalog(catalog: Catalog) -> list[Contradiction]:
    """Catalog items that no persona fits, and storylines with no tone their start emotion allows."""
    index = _Index(catalog)
    personas = [p for p in catalog.personas if p.facts is not None]
    found = []
    items = [("scenarios", s.key, s.requires, s.topic) for s in catalog.scenarios]
    items += [("edge_cases", e.key, e.requires, e.topic) for e in catalog.edge_cases]
    for section, key, requires, topic in items:
        topic_requires = narrowed(index.topics[topic].requires, requires) if topic in index.topics else None
        if not any(not violations(p, requires) and not violations(p, topic_requires) for p in personas):
            found.append(Contradiction("catalog", Fact(f"{key} requires what no persona is", _where(section, key)),
                                       Fact(f"the {len(personas)} personas' facts", "personas.yaml")))
    storylines = [("arcs", a.key, a.start_emotion, a.fit) for a in catalog.arcs]
    storylines += [("edge_cases", e.key, e.start_emotion, e.fit) for e in catalog.edge_cases]
    for section, key, start, fit in storylines:
        emotion = index.emotions.get(start)
        if emotion and not set(fit.tones) - set(emotion.unsuited_tones):
            found.append(Contradiction("catalog", Fact(f"fits only tones {', '.join(fit.tones)}", _where(section, key)),
                                       Fact(f"{start} rules out {', '.join(emotion.unsuited_tones)}",
                                            _where("emotions", start))))
    return found


class _Index:
    def __init__(self, catalog: Catalog):
        self.personas = {p.key: p for p in catalog.personas}
        self.topics = {t.key: t for t in catalog.topics}
        self.arcs = {a.key: a for a in catalog.arcs}
        self.scenarios = {s.key: s for s in catalog.scenarios}
        self.edges = {e.key: e for e in catalog.edge_cases}
        self.emotions = {e.key: e for e in catalog.emotions}


def _check_row(row: PlannedRow, index: _Index, taken: dict) -> list[Contradiction]:
    d = row.dimensions
    persona = index.personas.get(d.persona)
    if persona is None:
        return [Contradiction(row.key, Fact(f"persona {d.persona}", f"row {row.key}"),
                              Fact("no such persona", "personas.yaml"))]
    found = []
    who = _where("personas", persona.key)
    requirements = []
    storyline = index.scenarios.get(d.scenario) if d.scenario else index.edges.get(d.edge_case) if d.edge_case else None
    own = storyline.requires if storyline else None
    if d.topic in index.topics:
        requirements.append((narrowed(index.topics[d.topic].requires, own), _where("topics", d.topic)))
    if d.scenario and storyline:
        requirements.append((own, _where("scenarios", d.scenario)))
    if d.edge_case and storyline:
        requirements.append((own, _where("edge_cases", d.edge_case)))
    if d.arc and d.arc in index.arcs:
        requirements.append((index.arcs[d.arc].requires, _where("arcs", d.arc)))
    for requires, where in requirements:
        for v in violations(persona, requires):
            found.append(Contradiction(row.key, Fact(f"{persona.key}: {v.fact}", who),
                                       Fact(f"{where.split(': ')[1]} {v.requirement}", where)))
    found += _storyline(row, index)
    found += _variation(row)
    found += _seed_rerun(row, taken)
    return found


def _storyline(row: PlannedRow, index: _Index) -> list[Contradiction]:
    """Tone, intent, outcome, emotions and topic that the row's arc or edge case does not allow."""
    d = row.dimensions
    if d.edge_case:
        entry, section, key = index.edges.get(d.edge_case), "edge_cases", d.edge_case
    else:
        entry, section, key = index.arcs.get(d.arc) if d.arc else None, "arcs", d.arc
    if entry is None:
        return []
    here, where = Fact(f"row {row.key}", "the plan"), _where(section, key)
    found = []
    for name, value, allowed in (("tone", d.tone, entry.fit.tones), ("intent", d.intent, entry.fit.intents),
                                 ("outcome", d.outcome_type, entry.fit.outcomes)):
        if value not in allowed:
            found.append(Contradiction(row.key, Fact(f"{name} = {value}", here.where),
                                       Fact(f"{key} fits {name}s {', '.join(allowed)}", where)))
    for name, value, expected in (("emotion_start", d.emotion_start, entry.start_emotion),
                                  ("emotion_end", d.emotion_end, entry.end_emotion)):
        if value != expected:
            found.append(Contradiction(row.key, Fact(f"{name} = {value}", here.where),
                                       Fact(f"{key} has {name} {expected}", where)))
    story_topic = index.scenarios[d.scenario].topic if d.scenario in index.scenarios else (
        entry.topic if d.edge_case else None)
    if story_topic and story_topic != d.topic:
        found.append(Contradiction(row.key, Fact(f"topic = {d.topic}", here.where),
                                   Fact(f"{d.scenario or key} is about {story_topic}", where)))
    topic = index.topics.get(d.topic)
    if d.tier == 1 and topic and topic.arcs is not None and d.arc not in topic.arcs:
        found.append(Contradiction(row.key, Fact(f"arc = {d.arc}", here.where),
                                   Fact(f"{topic.key} fits arcs {', '.join(topic.arcs)}", _where("topics", topic.key))))
    start = index.emotions.get(d.emotion_start)
    if start and d.tone in start.unsuited_tones:
        found.append(Contradiction(row.key, Fact(f"tone = {d.tone}", here.where),
                                   Fact(f"{start.key} rules out {d.tone}", _where("emotions", start.key))))
    return found


def _variation(row: PlannedRow) -> list[Contradiction]:
    v = row.variation
    rule = RULES_BY_NAME["turn_count"]
    if v is None or (rule.low <= v.target_turns <= rule.high and v.target_turns % 2 == 0):
        return []
    return [Contradiction(row.key, Fact(f"target_turns = {v.target_turns}", "the plan"),
                          Fact(f"conversations have an even {rule.low}-{rule.high} turns, client first, advisor last",
                               "brightrun_gen/domain/quality.py: RULES turn_count"))]


def _seed_rerun(row: PlannedRow, taken: dict) -> list[Contradiction]:
    stories = seed_stories([row.dimensions])
    if row.dimensions.tier != 1:  # a Tier 2/3 row's arc comes with its scenario, not a story of its own
        stories = {s for s in stories if s[0] != "arc"}
    found = []
    for story in stories:
        seed = taken.get(story)
        if seed:
            what = " / ".join(str(part) for part in story[1:])
            found.append(Contradiction(row.key, Fact(f"row about {what}", "the plan"),
                                       Fact(f"seed {seed} is about {what}", f"seed conversation {seed}")))
    return found
