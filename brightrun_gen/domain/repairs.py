"""Repair requests and version diffs: pure text work around a conversation's versions.

A repair asks the generator for a new version of a conversation: the original prompt, unchanged,
plus one data block with the previous version and what to fix (the judge's failing criteria with
their evidence and suggestions, and/or a reviewer's notes).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, replace
from typing import Sequence

from brightrun_gen.domain.prompts import RenderedPrompt, as_data
from brightrun_gen.errors import InputError

NOTES_MAX_CHARS = 4000
ORIGINS = ("generated", "auto_repair", "reviewer_repair", "import")
ORIGIN_LABELS = {"generated": "generated", "auto_repair": "repaired by the judge's gate",
                 "reviewer_repair": "regenerated with reviewer notes", "import": "imported"}


def clean_notes(notes: str | None) -> str:
    """A reviewer's notes as a repair uses them: trimmed, non-empty, bounded."""
    text = (notes or "").strip()
    if not text:
        raise InputError("repair notes are empty: say what should change (e.g. --notes \"turn 4 is too long\")")
    if len(text) > NOTES_MAX_CHARS:
        raise InputError(f"repair notes are {len(text)} characters long; use at most {NOTES_MAX_CHARS}")
    return text


def fixes_from(failing: Sequence[dict]) -> list[dict]:
    """The judge's failing criteria as the repair block lists them."""
    return [{"criterion": c.get("label") or c["name"], "score": c["score"], "evidence": c.get("evidence"),
             "suggestion": c.get("suggestion")} for c in failing]


def repair_block(previous: Sequence, fixes: Sequence[dict], notes: str | None) -> str:
    """The instruction block appended to the original request; every quoted part is data."""
    turns = [{"turn": i, "role": t.role, "content": t.content} for i, t in enumerate(previous, 1)]
    parts = ["Repair request: write a new, complete version of this conversation. Keep what works, "
             "fix what is listed below, and follow every rule above.",
             f"Previous version (data): {json.dumps(turns, ensure_ascii=False)}"]
    if fixes:
        parts.append(f"What the review found (data; fix each): {json.dumps(list(fixes), ensure_ascii=False)}")
    if notes:
        parts.append(f"The reviewer's notes (data; do what they ask): {json.dumps(notes, ensure_ascii=False)}")
    parts.append("Answer with the whole conversation in the same schema, not only the changed turns.")
    return "\n\n".join(parts)


def repair_prompt(original: RenderedPrompt, previous: Sequence, fixes: Sequence[dict],
                  notes: str | None) -> RenderedPrompt:
    """The original prompt with the repair block after its request.

    The system and context sections stay as they were, so the prompt cache still serves them;
    the block is also kept in `parameters` (logged, and what the offline generator varies on).
    """
    block = repair_block(previous, fixes, notes)
    parameters = {**original.parameters, "repair": as_data({"fixes": list(fixes), "notes": notes or ""})}
    return replace(original, request=f"{original.request.rstrip()}\n\n{block}", parameters=parameters)


# --- turn-by-turn diff ------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnChange:
    """One position of two versions side by side, with a word-level diff of the text."""

    position: int  # 1-based
    role: str
    before: str | None  # None: the turn is new
    after: str | None  # None: the turn was dropped
    segments: tuple[tuple[str, str], ...]  # (op, text): op is "same", "removed" or "added"

    @property
    def changed(self) -> bool:
        return self.before != self.after


def diff_versions(before: Sequence, after: Sequence) -> list[TurnChange]:
    """Turn by turn: what changed from one version to the next."""
    changes = []
    for i in range(max(len(before), len(after))):
        old = before[i] if i < len(before) else None
        new = after[i] if i < len(after) else None
        role = (new or old).role
        changes.append(TurnChange(i + 1, role, old.content if old else None, new.content if new else None,
                                  word_diff(old.content if old else "", new.content if new else "")))
    return changes


def word_diff(before: str, after: str) -> tuple[tuple[str, str], ...]:
    """Words kept, removed and added, merged into runs."""
    old, new = before.split(), after.split()
    runs: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(("same", " ".join(old[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("removed", " ".join(old[i1:i2])))
        if j2 > j1:
            runs.append(("added", " ".join(new[j1:j2])))
    return tuple(runs)
