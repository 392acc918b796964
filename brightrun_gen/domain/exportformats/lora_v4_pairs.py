"""brightrun-lora-v4 training pairs from one stored conversation: one pair per advisor reply.

Pair n holds client turn n as `current_user_input`, the advisor's reply as `target_response`
and every earlier turn, each with its emotional state, as `conversation_history`. What the
pipeline asks for comes from, in this order:

1. the objects an imported v4 file carried (kept under `v4_pair` / `v4_history`), unchanged;
2. the turn's own annotations: the client's emotion, intensity and confidence as the writer
   gave them (`model` or `offline`), the advisor's strategy, the judge's 1–5 scores;
3. what the plan says, marked as such: the planned start emotion for the first half of the
   client turns and the end emotion after, at the catalog's intensities, with confidence 0
   (nothing was detected), and the structural 1–10 score mapped onto 1–5 for every criterion.

Each value says where it came from in a `source` key, and the file's metadata counts them, so a
planned or derived value is never mistaken for a measured one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from brightrun_gen.domain.annotations import SCORE_NAMES, V4_CRITERIA
from brightrun_gen.domain.exportformats import lora_v4_scaffold as scaffold
from brightrun_gen.domain.exportformats.base import ExportContext, ExportConversation
from brightrun_gen.domain.models import Catalog, Emotion, persona_label
from brightrun_gen.domain.stored import StoredTurn
from brightrun_gen.domain.vocabulary import DECISIONS

# Our conversation keys as v4 conversation ids: the same key always gives the same UUID.
_NAMESPACE = uuid.UUID("5f0c6a52-8d4b-4c1e-9a51-3b7f2e0d4c11")
# Keys of a pair rebuilt from the turns; everything else an imported pair had is kept.
TEXT_KEYS = ("conversation_history", "current_user_input", "target_response")


def conversation_uuid(conv: ExportConversation) -> str:
    stored = imported_facts(conv).get("conversation_id")
    return stored if isinstance(stored, str) else str(uuid.uuid5(_NAMESPACE, conv.key))


def imported_facts(conv: ExportConversation) -> dict:
    """What an imported v4 file said about the conversation, while its text is the imported one."""
    value = conv.metadata.get("lora_v4")
    return value if isinstance(value, dict) and conv.generation.version == 1 else {}


@dataclass(frozen=True)
class Scaffold:
    """The conversation's place in the pipeline's vocabulary, worked out once per conversation."""

    archetype: str
    arc: str
    persona_label: str
    background: str
    topic: str
    session_context: str
    objective: str
    outcome: str
    difficulty: str
    emotions: dict[str, Emotion]
    ours: dict  # our own dimensions, written beside the v4 names


class _Index:
    """The catalog's entries by key, built once per catalog (an export reads thousands of rows)."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog  # kept, so its id stays its own while the index is cached
        self.sections = {name: {entry.key: entry for entry in getattr(catalog, name)}
                         for name in ("personas", "topics", "scenarios", "edge_cases", "arcs", "outcome_types",
                                      "emotions")}

    def get(self, section: str, key: str | None):
        return self.sections[section].get(key) if key else None


_INDEXES: dict[int, _Index] = {}


def _index(catalog: Catalog) -> _Index:
    found = _INDEXES.get(id(catalog))
    if found is None or found.catalog is not catalog:
        _INDEXES.clear()  # one export at a time needs one; a new catalog replaces the old one
        found = _INDEXES[id(catalog)] = _Index(catalog)
    return found


def leave_out_reason(conv: ExportConversation, ctx: ExportContext) -> str | None:
    """Why this conversation cannot be said in v4, or None."""
    if imported_facts(conv) or all(_v4_pair(turn) for turn in conv.turns[1::2]):
        return None
    d, index = conv.dimensions, _index(ctx.catalog)
    if scaffold.persona_archetype(d.persona, index.get("personas", d.persona)) is None:
        return f"persona {d.persona!r} has no brightrun-lora-v4 archetype"
    if scaffold.arc_key(d.emotion_start) is None:
        return f"start emotion {d.emotion_start!r} begins no brightrun-lora-v4 arc"
    for name in (d.emotion_start, d.emotion_end):
        if index.get("emotions", name) is None:
            return f"emotion {name!r} is not in the catalog"
    if conv.quality_score is None:
        return "no quality score"
    return None


def scaffold_of(conv: ExportConversation, ctx: ExportContext) -> Scaffold:
    """The conversation's scaffolding; call only for conversations `leave_out_reason` keeps."""
    d, index = conv.dimensions, _index(ctx.catalog)
    persona, topic = index.get("personas", d.persona), index.get("topics", d.topic)
    scenario, edge = index.get("scenarios", d.scenario), index.get("edge_cases", d.edge_case)
    arc, outcome = index.get("arcs", d.arc), index.get("outcome_types", d.outcome_type)
    context = (scenario.context if scenario else edge.context if edge else arc.description if arc
               else f"{d.intent} about {d.topic}")
    objective = (scenario.desired_outcome if scenario else edge.resolution_strategy if edge
                 else f"Move the client from {d.emotion_start} to {d.emotion_end}")
    return Scaffold(
        archetype=scaffold.persona_archetype(d.persona, persona) or "",
        arc=scaffold.arc_key(d.emotion_start) or "",
        persona_label=persona_label(persona.name, persona.archetype) if persona else d.persona,
        background=persona.financial_background if persona else "",
        topic=topic.name if topic else d.topic,
        session_context=context,
        objective=objective,
        outcome=outcome.description if outcome else d.outcome_type,
        difficulty=scaffold.difficulty(d.tier, scenario.complexity if scenario else None),
        emotions=index.sections["emotions"],
        ours=d.model_dump(exclude_none=True),
    )


# --- the pairs -------------------------------------------------------------------------------


def lora_v4_pairs(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    """The conversation's training pairs, in turn order."""
    facts = None if all(_v4_pair(t) for t in conv.turns[1::2]) else scaffold_of(conv, ctx)
    clients, advisors = conv.turns[0::2], conv.turns[1::2]
    states = [_client_state(conv, facts, i, len(clients)) for i in range(len(clients))]
    items = []
    for n, (client, advisor) in enumerate(zip(clients, advisors), start=1):
        items.append(_history_item(client, n, states[n - 1]))
        items.append(_history_item(advisor, n, {**states[n - 1], "source": "client_turn"}))
    cid = conversation_uuid(conv)
    pairs = []
    for n, (client, advisor) in enumerate(zip(clients, advisors), start=1):
        following = clients[n] if n < len(clients) else None
        base = _v4_pair(advisor) or _new_pair(conv, ctx, facts, cid, n, len(advisors), states[n - 1],
                                              (client, advisor), following)
        pairs.append(_with_text(base, items[:2 * (n - 1)], client.content, advisor.content))
    return pairs


def _with_text(base: dict, history: list[dict], user: str, reply: str) -> dict:
    """The pair in the schema's key order, the text put where the pipeline reads it."""
    order = ("id", "conversation_id", "turn_number", "conversation_metadata", "system_prompt")
    pair = {key: base[key] for key in order if key in base}
    pair.update(conversation_history=history, current_user_input=user)
    pair["emotional_context"] = base.get("emotional_context")
    pair["target_response"] = reply
    pair.update({k: v for k, v in base.items() if k not in pair and k not in TEXT_KEYS})
    return pair


def _v4_pair(turn: StoredTurn) -> dict | None:
    value = (turn.annotation or {}).get("v4_pair")
    return value if isinstance(value, dict) else None


def _history_item(turn: StoredTurn, n: int, state: dict) -> dict:
    stored = (turn.annotation or {}).get("v4_history")
    if isinstance(stored, dict):
        return {"turn": stored.get("turn", n), "role": turn.role, "content": turn.content,
                **{k: v for k, v in stored.items() if k != "turn"}}
    emotional_state = {"primary": state["primary"], "intensity": state["intensity"], "source": state["source"]}
    return {"turn": n, "role": turn.role, "content": turn.content, "emotional_state": emotional_state}


def _client_state(conv: ExportConversation, facts: Scaffold | None, index: int, clients: int) -> dict:
    """Primary emotion, intensity, confidence, valence and where they come from."""
    turn = conv.turns[2 * index]
    a = turn.annotation or {}
    stored = (a.get("v4_history") or {}).get("emotional_state") if isinstance(a.get("v4_history"), dict) else None
    if facts is None or (isinstance(stored, dict) and "primary" in stored):
        return {"primary": (stored or {}).get("primary", a.get("emotion")),
                "intensity": (stored or {}).get("intensity", a.get("intensity")), "source": "import"}
    emotion = facts.emotions.get(a.get("emotion") or "")
    if a.get("source") in ("model", "offline") and emotion and _unit(a.get("intensity")) is not None:
        return {"primary": emotion.key, "intensity": float(a["intensity"]),
                "confidence": _unit(a.get("confidence")) or 0.0,
                "valence": scaffold.VALENCES[emotion.valence], "source": a["source"]}
    return _planned_state(conv, facts, index, clients)


def _planned_state(conv: ExportConversation, facts: Scaffold, index: int, clients: int) -> dict:
    """The plan's emotion at this client turn: the start emotion easing into the end one."""
    d = conv.dimensions
    share = index / max(clients - 1, 1)
    start, end = facts.emotions[d.emotion_start], facts.emotions[d.emotion_end]
    emotion = start if share < 0.5 else end
    intensity = round(start.intensity + (end.intensity - start.intensity) * share, 2)
    return {"primary": emotion.key, "intensity": intensity, "confidence": 0.0,
            "valence": scaffold.VALENCES[emotion.valence], "source": "plan"}


def _unit(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1
    return float(value) if ok else None


def _new_pair(conv: ExportConversation, ctx: ExportContext, facts: Scaffold, cid: str, n: int, pairs: int,
              state: dict, turns: tuple[StoredTurn, StoredTurn], following: StoredTurn | None) -> dict:
    client, advisor = turns
    strategy = (advisor.annotation or {}).get("strategy")
    d = conv.dimensions
    metadata = {
        "client_persona": facts.persona_label,
        "persona_archetype": facts.archetype,
        "client_background": facts.background,
        "emotional_arc": scaffold.ARC_LABELS[facts.arc],
        "emotional_arc_key": facts.arc,
        "training_topic": facts.topic,
        "training_topic_key": d.topic,
        "session_context": facts.session_context,
        "conversation_phase": scaffold.conversation_phase(n, pairs, facts.arc),
        "expected_outcome": strategy or facts.outcome,
        # Our own scaffolding beside the v4 names, so nothing the mapping merged is lost.
        "conversation_key": conv.key,
        **facts.ours,
    }
    detected = {"primary": state["primary"], "primary_confidence": state["confidence"],
                "intensity": state["intensity"], "valence": state["valence"], "source": state["source"]}
    return {
        "id": f"{conv.key}_turn{n}",
        "conversation_id": cid,
        "turn_number": n,
        "conversation_metadata": metadata,
        "system_prompt": ctx.system_prompt,
        "emotional_context": {"detected_emotions": detected},
        "training_metadata": _training_metadata(conv, facts, n, state, turns, strategy, following),
    }


def _training_metadata(conv: ExportConversation, facts: Scaffold, n: int, state: dict,
                       turns: tuple[StoredTurn, StoredTurn], strategy: str | None, following: StoredTurn | None) -> dict:
    client, advisor = turns
    # Where this exchange should leave the client: the beat sheet's target for the client's next turn,
    # else (the last exchange, or no beat sheet) the row's end.
    target = facts.emotions.get(((following.annotation if following else None) or {}).get("target") or "")
    end = target or facts.emotions[conv.dimensions.emotion_end]
    score, criteria = _quality(conv, advisor)
    return {
        "difficulty_level": f"{facts.difficulty}_conversation_turn_{n}",
        "key_learning_objective": facts.objective,
        "demonstrates_skills": [strategy] if strategy else [],
        "conversation_turn": n,
        "emotional_progression_target": f"{state['primary']}({state['intensity']:.2f}) → {end.key}({end.intensity:.2f})",
        "quality_score": score,
        "quality_criteria": criteria,
        "human_reviewed": conv.status in DECISIONS,
        "reviewer_notes": conv.reviewer_notes,
        "use_as_seed_example": conv.source == "seed",
        "generate_variations_count": 0,
    }


def _quality(conv: ExportConversation, advisor: StoredTurn) -> tuple[float, dict]:
    """The judge's scores for this reply; without them the structural score, said so."""
    scores = (advisor.annotation or {}).get("scores")
    if isinstance(scores, dict) and all(isinstance(scores.get(k), (int, float)) for k in SCORE_NAMES):
        criteria = {V4_CRITERIA[k]: float(scores[k]) for k in SCORE_NAMES}
        return round(sum(criteria.values()) / len(criteria), 2), {**criteria, "source": "judge"}
    # Structural 1–10 onto the pipeline's 1–5; the same value stands for each criterion.
    derived = round(1 + (float(conv.quality_score) - 1) * 4 / 9, 2)
    criteria = {key: derived for key in V4_CRITERIA.values()}
    return derived, {**criteria, "source": "structural"}
