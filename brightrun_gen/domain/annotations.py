"""Per-turn annotations: what each turn's writer, a judge or an imported file says about it.

A turn's annotation is one JSON object stored with the turn of its version. Its keys:

- `source`: who annotated: `model` (Claude, as it wrote the turn), `offline` (the offline
  generator's placeholders), `import` (a file brought them).
- client turns: `emotion` (a catalog emotion key), `intensity` and `confidence` (0–1);
- advisor turns: `strategy` (a phrase), and `scores` from the judge
  (`empathy`, `clarity`, `appropriateness`, `brand_voice`, each 1–5; see `with_scores`);
- `target`: the plan's emotion for that turn (the beat sheet), when the plan gives one;
- `v4_pair`, `v4_history`, `v4_unanswered`: a brightrun-lora-v4 file's own objects, kept as they
  were so an export gives them back unchanged.

Pure code: the generator, the importers, the review page and the exports read it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from brightrun_gen.domain.models import GeneratedTurn, Turn
from brightrun_gen.domain.vocabulary import OFFLINE_MODEL

SOURCES = ("model", "offline", "import")
SOURCE_LABELS = {"model": "model", "offline": "offline placeholder", "import": "from the imported file",
                 "plan": "planned only (the writer gave none)"}
# The judge's criteria, in the pipeline's order, on its 1–5 scale.
SCORE_NAMES = ("empathy", "clarity", "appropriateness", "brand_voice")
SCORE_LABELS = {"empathy": "Empathy", "clarity": "Clarity", "appropriateness": "Appropriateness",
                "brand_voice": "Brand voice"}
SCORE_RANGE = (1.0, 5.0)


def annotated_turns(turns: Iterable[GeneratedTurn], model: str, targets: Sequence[str | None] = ()) -> list[Turn]:
    """The model's turns as stored: text plus the annotation its writer gave (None if none).

    `targets`: the plan's emotion for each client turn in order (the beat sheet), kept as `target`.
    """
    source = "offline" if model == OFFLINE_MODEL else "model"
    stored, clients = [], 0
    for turn in turns:
        annotation = _written(turn, source)
        if turn.role == "user":
            target = targets[clients] if clients < len(targets) else None
            if target:
                annotation = {**(annotation or {"source": "plan"}), "target": target}
            clients += 1
        stored.append(Turn(role=turn.role, content=turn.content, annotation=annotation))
    return stored


def _written(turn: GeneratedTurn, source: str) -> dict | None:
    keys = ("emotion", "intensity", "confidence") if turn.role == "user" else ("strategy",)
    values = {key: getattr(turn, key) for key in keys if getattr(turn, key) is not None}
    return {"source": source, **values} if values else None


def with_scores(annotation: dict | None, scores: dict[str, float]) -> dict:
    """An advisor turn's annotation with the judge's scores added (the other keys kept).

    The hook for the judge: `scores` maps each of SCORE_NAMES to a number from 1 to 5.
    """
    missing = [name for name in SCORE_NAMES if name not in scores]
    if missing:
        raise ValueError(f"judge scores: missing {', '.join(missing)}")
    low, high = SCORE_RANGE
    for name in SCORE_NAMES:
        if not low <= float(scores[name]) <= high:
            raise ValueError(f"judge scores: {name} is {scores[name]}, expected {low:g} to {high:g}")
    return {**(annotation or {}), "scores": {name: float(scores[name]) for name in SCORE_NAMES}}


@dataclass(frozen=True)
class TurnNotes:
    """What the review page shows beside one turn, whatever the annotation's origin."""

    source: str | None
    emotion: str | None = None
    intensity: float | None = None
    confidence: float | None = None
    strategy: str | None = None
    target: str | None = None
    scores: dict[str, float] | None = None

    @property
    def empty(self) -> bool:
        return not any((self.emotion, self.strategy, self.target, self.scores))

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source or "", self.source or "unknown")


def turn_notes(annotation: dict | None) -> TurnNotes:
    """The annotation read for display: its own keys, else a v4 file's objects."""
    a = annotation or {}
    pair = a.get("v4_pair") or {}
    detected = _get(pair, "emotional_context", "detected_emotions") or {}
    state = _get(a, "v4_history", "emotional_state") or {}
    criteria = _get(pair, "training_metadata", "quality_criteria")
    return TurnNotes(
        source=a.get("source"),
        emotion=_text(a.get("emotion")) or _text(detected.get("primary")) or _text(state.get("primary")),
        intensity=_number(a.get("intensity"), detected.get("intensity"), state.get("intensity")),
        confidence=_number(a.get("confidence"), detected.get("primary_confidence")),
        strategy=_text(a.get("strategy")),
        target=_text(a.get("target")),
        scores=_scores(a.get("scores")) or _v4_scores(criteria),
    )


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _number(*values: Any) -> float | None:
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def _scores(value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict) or not all(_number(value.get(name)) is not None for name in SCORE_NAMES):
        return None
    return {name: float(value[name]) for name in SCORE_NAMES}


# The v4 file's names for the judge's criteria.
V4_CRITERIA = {"empathy": "empathy_score", "clarity": "clarity_score", "appropriateness": "appropriateness_score",
               "brand_voice": "brand_voice_alignment"}


def _v4_scores(criteria: Any) -> dict[str, float] | None:
    if not isinstance(criteria, dict):
        return None
    return _scores({name: criteria.get(key) for name, key in V4_CRITERIA.items()})
