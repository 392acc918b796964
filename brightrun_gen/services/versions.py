"""A conversation's versions as the review page shows them: the judgement beside the structural
breakdown, a version picker, a turn-by-turn diff, and approving another version.

How versions and approval fit together: every generation, automatic repair and reviewer repair
writes a new version; nothing is overwritten. `current_version` is the version decisions are about
and exports use. While a conversation is approved, a newer version never becomes current on its
own: the approved text stays exactly as approved, and stays what export uses, until a reviewer
approves another version here (which records the decision on that version and makes it current).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.domain.repairs import ORIGIN_LABELS, TurnChange, diff_versions
from brightrun_gen.errors import InputError
from brightrun_gen.services.review import lock_reviewable, reviewer_name
from brightrun_gen.store import conversations as conv_store, judgements as store, reviews as review_store
from brightrun_gen.store.conversations import ConversationRow, StoredTurn
from brightrun_gen.store.db import read, write


@dataclass(frozen=True)
class VersionRow:
    version: int
    origin: str  # a label: generated, repaired by the judge's gate, regenerated with reviewer notes
    parent_version: int | None
    notes: str | None
    model: str
    judge_score: float | None
    passed: bool | None
    flagged: bool
    decision: str | None  # the last decision on this version
    current: bool

    @property
    def label(self) -> str:
        judged = "not judged" if self.judge_score is None else f"judge {self.judge_score:.1f}/5" + (
            " · flagged" if self.flagged else " · passed" if self.passed else " · failed")
        marks = [m for m in ("current" if self.current else "", (self.decision or "").replace("_", " ")) if m]
        return f"v{self.version} · {self.origin} · {judged}" + (f" · {', '.join(marks)}" if marks else "")


@dataclass(frozen=True)
class VersionPanel:
    """Everything the judgement and versions panel shows for one shown version."""

    row: ConversationRow
    versions: list[VersionRow]
    shown: int
    turns: list[StoredTurn]
    judgement: dict | None
    compared_with: int | None
    diff: list[TurnChange]
    drafts_after_approval: list[int]  # versions newer than the approved current one

    @property
    def diff_markdown(self) -> list[tuple[str, str, bool]]:
        """(title, markdown, changed) per turn of the diff: ~~removed~~ and **added** words, the text escaped."""
        return [(_diff_title(c), _diff_text(c), c.changed) for c in self.diff]

    @property
    def shown_is_current(self) -> bool:
        return self.shown == self.row.current_version

    @property
    def can_repair_with_notes(self) -> bool:
        return self.row.status == "needs_edit" and bool((self.row.reviewer_notes or "").strip())

    @property
    def can_approve_shown(self) -> bool:
        return not self.shown_is_current and self.row.status not in ("queued", "generating")


def _diff_title(change: TurnChange) -> str:
    speaker = "Client" if change.role == "user" else "Elena"
    what = " (new)" if change.before is None else " (dropped)" if change.after is None else ""
    return f"Turn {change.position} · {speaker}{what}"


def _diff_text(change: TurnChange) -> str:
    marks = {"same": "{}", "removed": "~~{}~~", "added": "**{}**"}
    return " ".join(marks[op].format(escape_markdown(text)) for op, text in change.segments if text)


def versions(engine: Engine, conversation_id: int, current: int) -> list[VersionRow]:
    return [VersionRow(v["version"], ORIGIN_LABELS.get(v["origin"], v["origin"] or "generated"), v["parent_version"],
                       v["notes"], v["model"], v["judge_score"], v["passed"], bool(v["flagged"]), v["decision"],
                       v["version"] == current)
            for v in store.versions_of(engine, conversation_id)]


def panel(engine: Engine, key_or_id: str | int, version: int | None = None, against: int | None = None) -> VersionPanel:
    """The panel for `version` (default: current), diffed against `against` (default: the version it
    came from, else the one before it)."""
    with read(engine) as conn:
        cid = conv_store.find_id(conn, key_or_id)
        row = conv_store.get_row(conn, cid)
    rows = versions(engine, cid, row.current_version)
    shown = version if version is not None else row.current_version
    by_number = {v.version: v for v in rows}
    if rows and shown not in by_number:
        raise InputError(f"conversation {row.key} has no version {shown}; it has {', '.join(map(str, by_number))}")
    parent = by_number[shown].parent_version if shown in by_number else None
    compared = against if against is not None else parent or (shown - 1 if shown - 1 in by_number else None)
    with read(engine) as conn:
        turns = conv_store.load_turns(conn, cid, shown)
        before = conv_store.load_turns(conn, cid, compared) if compared else []
        judged = store.judgement_of(conn, cid, shown)
    after_approval = [v.version for v in rows if row.status == "approved" and v.version > row.current_version]
    return VersionPanel(row, rows, shown, turns, judged, compared, diff_versions(before, turns) if compared else [],
                        after_approval)


def approve_version(engine: Engine, key_or_id: str | int, version: int, reviewer: str | None = None,
                    notes: str | None = None, *, settings: Settings | None = None) -> ConversationRow:
    """Approve a version that is not the current one: the decision is recorded on that version and
    it becomes the current (exported) one, in one transaction."""
    name = reviewer_name(reviewer, settings or get_settings())
    notes = (notes or "").strip() or None
    with write(engine) as conn:
        cid, target = lock_reviewable(conn, key_or_id)
        if not store.version_exists(conn, cid, version):
            raise InputError(f"conversation {target.key} has no version {version}")
        review_store.insert_event(conn, cid, version, "approved", name, notes)
        store.make_current(conn, cid, version, status="approved", notes=notes)
        return conv_store.get_row(conn, cid)
