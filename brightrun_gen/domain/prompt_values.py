"""The values a prompt is filled with: meaning, not keys.

The model gets the descriptions of tone, intent and outcome, emotions with their intensity, a
beat sheet mapped onto the row's own turn count, the row's variation in words, the firm's voice,
and the word and turn limits read from the same rule table that scores the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from brightrun_gen.domain.examples import Example, example_data
from brightrun_gen.domain.models import Beat, Catalog, Dimensions, Variation
from brightrun_gen.domain.prompts import Lines
from brightrun_gen.domain.quality import RULES, Rule
from brightrun_gen.domain.voice import VoiceProfile, voice_lines
from brightrun_gen.errors import TemplateError

# A row stored before plans had variation (or imported) is written with these.
DEFAULT_VARIATION = Variation(target_turns=12, opening="story_first", channel="evening_at_home", verbosity="usual",
                              pushback=False, sub_issues=1)
_INTENSITY_WORDS = ((0.9, "overwhelming"), (0.75, "strong"), (0.5, "clear"), (0.3, "mild"), (0.0, "faint"))


@dataclass(frozen=True)
class SharedInputs:
    """What every row's prompt shares: the catalog, the rule table in force and the firm's voice."""

    catalog: Catalog
    rules: tuple[Rule, ...] = RULES
    voice: VoiceProfile | None = None


def prompt_values(dims: Dimensions, shared: SharedInputs, *, variation: Variation | None = None,
                  examples: Sequence[Example] = ()) -> dict:
    """Every placeholder value for one planned row, from the catalog entries it names."""
    catalog = shared.catalog
    variation = variation or DEFAULT_VARIATION
    persona = _by_key(catalog.personas, dims.persona, "persona")
    topic = _by_key(catalog.topics, dims.topic, "topic")
    rules = {r.name: r for r in shared.rules}
    exchanges = variation.target_turns // 2
    values = {
        **_shared_values(shared, rules),
        "persona_name": persona.name,
        "persona_archetype": persona.archetype,
        "persona_profile": persona.model_dump(exclude={"key", "facts"}),
        "topic": topic.name,
        "content_category": dims.content_category,
        "topic_cluster": dims.topic_cluster,
        "emotion_start": _name(catalog.emotions, dims.emotion_start),
        "emotion_end": _name(catalog.emotions, dims.emotion_end),
        "start_intensity": _intensity(catalog, dims.emotion_start),
        "end_intensity": _intensity(catalog, dims.emotion_end),
        "intent": _described(catalog.intents, dims.intent, "intent"),
        "tone": _described(catalog.tones, dims.tone, "tone"),
        "outcome": _described(catalog.outcome_types, dims.outcome_type, "outcome type"),
        "target_turns": variation.target_turns,
        "exchanges": exchanges,
        "variation": Lines(_variation_lines(catalog, variation)),
        "examples": Lines([example_data(e) for e in examples] or ["No example conversations are available yet."]),
        "tier": dims.tier,
    }
    beats = None
    if dims.arc:
        arc = _by_key(catalog.arcs, dims.arc, "arc")
        values.update(arc_name=arc.name, arc_definition={"description": arc.description, "milestones": arc.milestones})
        beats = arc.beats
    if dims.scenario:
        scenario = _by_key(catalog.scenarios, dims.scenario, "scenario")
        values.update(scenario=scenario.model_dump(include={"title", "context", "complexity", "desired_outcome"}),
                      scenario_title=scenario.title)
    if dims.edge_case:
        edge = _by_key(catalog.edge_cases, dims.edge_case, "edge case")
        values.update(edge_case=edge.model_dump(include={"title", "type", "context", "stress_factors",
                                                         "resolution_strategy"}),
                      edge_case_title=edge.title,
                      # The elements the must-have rule checks, as the model should read them: what, not which words.
                      must_include=Lines([m.element for m in edge.must_include] or ["nothing beyond the rules above"]),
                      must_avoid=Lines([m.element for m in edge.must_avoid] or ["nothing beyond the rules above"]))
        beats = edge.beats
    values["beat_sheet"] = Lines(beat_sheet(beats or [], variation.target_turns, catalog))
    return values


def _shared_values(shared: SharedInputs, rules: dict[str, Rule]) -> dict:
    """The shared part's values: the advisor, the voice and the limits of the rule table."""
    advisor = shared.catalog.advisor
    return {
        "advisor_name": advisor.name,
        "advisor_profile": advisor.model_dump(),
        "turn_range": f"{rules['turn_count'].low} to {rules['turn_count'].high}",
        "client_words": f"{rules['user_length'].low} to {rules['user_length'].high}",
        "advisor_words": f"{rules['assistant_length'].low} to {rules['assistant_length'].high}",
        "voice": Lines(voice_lines(shared.voice)),
    }


def beat_sheet(beats: Sequence[Beat], turns: int, catalog: Catalog) -> list[str]:
    """The storyline's phases mapped onto `turns`: which turns each phase covers, where the client
    is (emotion and intensity) and what Elena does there."""
    spans = beat_spans([b.share for b in beats], turns // 2)
    lines = []
    for beat, (first, last) in zip(beats, spans):
        turn_range = f"Turns {2 * first - 1}-{2 * last}"
        emotion = _name(catalog.emotions, beat.client).lower()
        lines.append(f"{turn_range} · {beat.phase}: the client feels {emotion} at {_intensity_value(beat.intensity)}; "
                     f"the advisor: {beat.advisor}.")
    return lines


def row_beats(dims: Dimensions, catalog: Catalog) -> list[Beat]:
    """The beat sheet a row follows: its edge case's, else its arc's (scenarios follow their arc)."""
    if dims.edge_case:
        return list(_by_key(catalog.edge_cases, dims.edge_case, "edge case").beats)
    if dims.arc:
        return list(_by_key(catalog.arcs, dims.arc, "arc").beats)
    return []


def client_targets(beats: Sequence[Beat], turns: int) -> list[str]:
    """The emotion the beat sheet asks of each client turn, in order: the plan's target per turn,
    which the stored annotations keep beside what the model says it wrote."""
    spans = beat_spans([b.share for b in beats], turns // 2)
    return [beat.client for beat, (first, last) in zip(beats, spans) for _ in range(first, last + 1)]


def beat_spans(shares: Sequence[float], exchanges: int) -> list[tuple[int, int]]:
    """(first, last) exchange of each phase: every phase gets at least one exchange when there are
    enough, the rest by share (largest remainder), in order, covering 1..exchanges exactly."""
    if not shares:
        return []
    if exchanges < len(shares):
        raise TemplateError(f"a beat sheet of {len(shares)} phases needs at least {len(shares)} exchanges, "
                            f"got {exchanges}")
    spare = exchanges - len(shares)
    total = sum(shares)
    exact = [spare * s / total for s in shares]
    counts = [1 + int(x) for x in exact]
    for i in sorted(range(len(shares)), key=lambda i: exact[i] - int(exact[i]), reverse=True)[: exchanges - sum(counts)]:
        counts[i] += 1
    spans, start = [], 1
    for count in counts:
        spans.append((start, start + count - 1))
        start += count
    return spans


def _variation_lines(catalog: Catalog, v: Variation) -> list[str]:
    pushback = ("Once, midway, the client pushes back on a suggestion (cost, doubt or pride); the advisor "
                "responds without getting defensive and the conversation moves on." if v.pushback else
                "The client does not push back; any doubt is voiced as a question.")
    issues = {1: "Only the main issue is discussed.",
              2: "One related worry comes up along the way and is handled briefly.",
              3: "Two related worries come up along the way; the advisor handles them without losing the main thread."}
    return [
        f"How the client opens: {_described(catalog.openings, v.opening, 'opening')}",
        f"Channel and time: {_described(catalog.channels, v.channel, 'channel')}",
        f"How much the client writes: {_described(catalog.verbosity, v.verbosity, 'verbosity')}",
        f"Pushback: {pushback}",
        f"Sub-issues: {issues[v.sub_issues]}",
    ]


def _described(entries, key: str, what: str) -> str:
    entry = _by_key(entries, key, what)
    return f"{entry.name}: {entry.description}"


def _name(entries, key: str) -> str:
    found = next((e for e in entries if e.key == key), None)
    return found.name if found else key.replace("_", " ")


def _intensity(catalog: Catalog, key: str) -> str:
    found = next((e for e in catalog.emotions if e.key == key), None)
    return _intensity_value(found.intensity) if found else "intensity unknown"


def _intensity_value(value: float) -> str:
    word = next(word for limit, word in _INTENSITY_WORDS if value >= limit)
    return f"intensity {value:.2f} of 1 ({word})"


def _by_key(entries, key: str, what: str):
    for entry in entries:
        if entry.key == key:
            return entry
    raise TemplateError(f"{what} {key!r} is not in the catalog")
