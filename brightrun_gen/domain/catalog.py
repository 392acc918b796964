"""Reading the catalog (YAML files in seeds/catalog) and building a plan the linter finds clean."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import yaml
from pydantic import ValidationError

from brightrun_gen.domain import planning
from brightrun_gen.domain.lint import check_catalog, check_plan
from brightrun_gen.domain.models import Catalog, Dimensions, PlannedRow
from brightrun_gen.domain.planning import PlanRequest
from brightrun_gen.errors import InputError


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
    """Every key an entry names exists: emotions, topics, arcs, tones, intents, outcomes, personas."""
    known = {
        "emotion": {e.key for e in catalog.emotions}, "topic": {t.key for t in catalog.topics},
        "arc": {a.key for a in catalog.arcs}, "tone": {t.key for t in catalog.tones},
        "intent": {i.key for i in catalog.intents}, "outcome": {o.key for o in catalog.outcome_types},
        "persona": {p.key for p in catalog.personas},
    }
    for section, key, field, value, kind in _references(catalog):
        if value not in known[kind]:
            raise InputError(f"catalog file {section}.yaml: entry {key}: {field} {value!r} is not defined")
    for section in ("personas", "emotions", "arcs", "topics", "scenarios", "edge_cases", "openings", "channels",
                    "verbosity"):
        keys = [entry.key for entry in getattr(catalog, section)]
        if len(keys) != len(set(keys)):
            raise InputError(f"catalog file {section}.yaml: duplicate keys")
        if section in ("openings", "channels", "verbosity") and not keys:
            raise InputError(f"catalog file {section}.yaml: needs at least one entry")


def _references(catalog: Catalog):
    """(section, entry key, field, value, kind of key) for every reference in the catalog."""
    for e in catalog.emotions:
        yield from (("emotions", e.key, "unsuited_tones", t, "tone") for t in e.unsuited_tones)
    for a in catalog.arcs:
        yield ("arcs", a.key, "start_emotion", a.start_emotion, "emotion")
        yield ("arcs", a.key, "end_emotion", a.end_emotion, "emotion")
        yield from _storyline_references("arcs", a)
    for s in catalog.scenarios:
        yield ("scenarios", s.key, "topic", s.topic, "topic")
        yield ("scenarios", s.key, "arc", s.arc, "arc")
        yield from _persona_references("scenarios", s.key, s.requires)
    for e in catalog.edge_cases:
        yield ("edge_cases", e.key, "topic", e.topic, "topic")
        yield ("edge_cases", e.key, "start_emotion", e.start_emotion, "emotion")
        yield ("edge_cases", e.key, "end_emotion", e.end_emotion, "emotion")
        yield from _storyline_references("edge_cases", e)
        yield from _persona_references("edge_cases", e.key, e.requires)
    for t in catalog.topics:
        yield from _persona_references("topics", t.key, t.requires)
        yield from (("topics", t.key, "arcs", a, "arc") for a in t.arcs or [])


def _storyline_references(section: str, entry):
    yield from ((section, entry.key, "fit.tones", t, "tone") for t in entry.fit.tones)
    yield from ((section, entry.key, "fit.intents", i, "intent") for i in entry.fit.intents)
    yield from ((section, entry.key, "fit.outcomes", o, "outcome") for o in entry.fit.outcomes)
    yield from ((section, entry.key, f"beats[{n}].client", b.client, "emotion") for n, b in enumerate(entry.beats))


def _persona_references(section: str, key: str, requires):
    if requires is not None and requires.personas:
        yield from ((section, key, "requires.personas", p, "persona") for p in requires.personas)


def build_plan(catalog: Catalog, request: PlanRequest = PlanRequest(), *, existing: Sequence[PlannedRow] = (),
               seeds: Iterable[Dimensions] = ()) -> list[PlannedRow]:
    """The default plan (90 rows, 40/35/15), or the rows that extend `existing` to `request.size`.

    Refuses a plan with contradictions: the builder pairs only what fits, so a contradiction here
    means the catalog itself is inconsistent (an item no persona fits, a storyline with no
    usable tone), and `brightrun plan check` names it.
    """
    problems = check_catalog(catalog)
    rows = planning.build_plan(catalog, request, existing=existing, seeds=seeds)
    problems += check_plan(rows, catalog, [("", d) for d in seeds])
    if problems:
        more = f" (and {len(problems) - 1} more; `brightrun plan check` lists them)" if len(problems) > 1 else ""
        raise InputError(f"the plan has contradictions: {problems[0].line()}{more}")
    return rows
