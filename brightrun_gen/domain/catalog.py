"""Reading the catalog (YAML files in seeds/catalog) and building the deterministic plan."""

from __future__ import annotations

from itertools import cycle, islice
from pathlib import Path

import yaml
from pydantic import ValidationError

from brightrun_gen.domain.models import Catalog, Dimensions, PlannedRow
from brightrun_gen.errors import InputError

PLAN_SIZES = {1: 40, 2: 35, 3: 15}


def load_catalog(directory: Path) -> Catalog:
    """Read one YAML file per catalog section and check every cross reference."""
    data = {name: _read_yaml(directory / f"{name}.yaml") for name in Catalog.model_fields}
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        section, *rest = err["loc"]
        where = ".".join(str(p) for p in rest) or "top level"
        raise InputError(f"catalog file {section}.yaml: {where}: {err['msg']}") from None
    _check_references(catalog)
    return catalog


def _read_yaml(path: Path):
    if not path.exists():
        raise InputError(f"catalog file {path.name} is missing from {path.parent}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise InputError(f"catalog file {path.name}: {where}: {getattr(exc, 'problem', exc)}") from None


def _check_references(catalog: Catalog) -> None:
    emotions = {e.key for e in catalog.emotions}
    topics = {t.key for t in catalog.topics}
    arcs = {a.key for a in catalog.arcs}
    wanted = [("arcs", a.key, "start_emotion", a.start_emotion, emotions) for a in catalog.arcs]
    wanted += [("arcs", a.key, "end_emotion", a.end_emotion, emotions) for a in catalog.arcs]
    for s in catalog.scenarios:
        wanted += [("scenarios", s.key, "topic", s.topic, topics), ("scenarios", s.key, "arc", s.arc, arcs)]
    for e in catalog.edge_cases:
        wanted += [
            ("edge_cases", e.key, "topic", e.topic, topics),
            ("edge_cases", e.key, "start_emotion", e.start_emotion, emotions),
            ("edge_cases", e.key, "end_emotion", e.end_emotion, emotions),
        ]
    for section, key, field, value, known in wanted:
        if value not in known:
            raise InputError(f"catalog file {section}.yaml: entry {key}: {field} {value!r} is not defined")
    for section in ("personas", "emotions", "arcs", "topics", "scenarios", "edge_cases"):
        keys = [entry.key for entry in getattr(catalog, section)]
        if len(keys) != len(set(keys)):
            raise InputError(f"catalog file {section}.yaml: duplicate keys")


def build_plan(catalog: Catalog) -> list[PlannedRow]:
    """The 90 planned rows: 40 Tier 1 (persona x arc x topic), 35 Tier 2, 15 Tier 3.

    Deterministic and balanced: every list is walked round-robin with co-prime strides, so
    each arc, persona, content category, intent, tone and outcome appears about equally often.
    """
    topics_by_key = {t.key: t for t in catalog.topics}
    arcs_by_key = {a.key: a for a in catalog.arcs}
    topics = _interleave_by_category(catalog.topics)
    personas = [p.key for p in catalog.personas]
    rows: list[PlannedRow] = []

    def dims(i: int, tier: int, persona: str, topic_key: str, start: str, end: str, **which) -> Dimensions:
        topic = topics_by_key[topic_key]
        return Dimensions(
            tier=tier,
            persona=persona,
            emotion_start=start,
            emotion_end=end,
            topic=topic.key,
            content_category=topic.content_category,
            topic_cluster=topic.topic_cluster,
            intent=_pick(catalog.intents, i + tier),
            tone=_pick(catalog.tones, i * 2 + tier),
            outcome_type=_pick(catalog.outcome_types, i * 3 + tier),
            **which,
        )

    for i in range(PLAN_SIZES[1]):
        arc = catalog.arcs[i % len(catalog.arcs)]
        d = dims(i, 1, personas[i % len(personas)], topics[i % len(topics)].key,
                 arc.start_emotion, arc.end_emotion, arc=arc.key)
        rows.append(PlannedRow(key=f"T1-{i + 1:03d}", dimensions=d))
    for i, scenario in enumerate(islice(cycle(catalog.scenarios), PLAN_SIZES[2])):
        arc = arcs_by_key[scenario.arc]
        d = dims(i, 2, personas[(i + 3) % len(personas)], scenario.topic,
                 arc.start_emotion, arc.end_emotion, arc=arc.key, scenario=scenario.key)
        rows.append(PlannedRow(key=f"T2-{i + 1:03d}", dimensions=d))
    for i, edge in enumerate(islice(cycle(catalog.edge_cases), PLAN_SIZES[3])):
        d = dims(i, 3, personas[(i + 5) % len(personas)], edge.topic,
                 edge.start_emotion, edge.end_emotion, edge_case=edge.key)
        rows.append(PlannedRow(key=f"T3-{i + 1:03d}", dimensions=d))
    return rows


def _pick(entries, index: int) -> str:
    return entries[index % len(entries)].key


def _interleave_by_category(topics):
    """Topics ordered so consecutive picks come from different content categories."""
    by_category: dict[str, list] = {}
    for topic in topics:
        by_category.setdefault(topic.content_category, []).append(topic)
    queues = list(by_category.values())
    ordered = []
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered
