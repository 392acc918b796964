"""Repair from a reviewer's notes: a new version made from a stored one plus the notes.

A repair is a job of one (kind "repair") on the same queue as generation, so the page returns at
once and the background runner writes it, and `brightrun repair` runs the same job in the
foreground. The job carries the notes and the version they are about; the runner turns them into
a `Revision` and generation writes, judges and stores the new version. A repair never touches an
approved version: the new one is stored beside it and becomes current only when approved.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from brightrun_gen.domain.models import Turn
from brightrun_gen.config import Settings
from brightrun_gen.domain.repairs import clean_notes, fixes_from
from brightrun_gen.domain.verdicts import Judgement
from brightrun_gen.errors import InputError
from brightrun_gen.llm.factory import make_provider
from brightrun_gen.services.judging import Revision
from brightrun_gen.store import conversations as conv_store, judgements as judge_store, queue
from brightrun_gen.store.db import read, write

logger = logging.getLogger(__name__)

REPAIR_JOB = "repair"


def request(engine: Engine, key_or_id: str | int, notes: str | None, *, settings: Settings,
            provider: str | None = None, model: str | None = None, version: int | None = None) -> int:
    """Queue a repair of one conversation (its current version unless `version`) with the notes; the job's id."""
    notes = clean_notes(notes)
    provider_name = provider or settings.effective_provider
    provider_obj = make_provider(settings, provider_name, model)  # fails early without a key
    with write(engine) as conn:
        cid = conv_store.find_id(conn, key_or_id)
        row = conv_store.get_row(conn, cid)
        base = version if version is not None else row.current_version
        if base < 1 or not judge_store.version_exists(conn, cid, base):
            raise InputError(f"conversation {row.key} has no version {base} to repair; generate it first")
        job_id = queue.create_job(conn, kind=REPAIR_JOB, selection={"ids": [cid], "version": base, "notes": notes},
                                  provider=provider_name, model=provider_obj.model, concurrency=1, use_batch=False)
        if not queue.enqueue_items(conn, job_id, [cid]):
            raise InputError(f"conversation {row.key} is already queued or being generated; repair it when that is done")
        queue.finalize_jobs(conn)
    logger.info("repair of %s version %s queued as job %s", row.key, base, job_id)
    return job_id


def revision_for(engine: Engine, job: queue.Job, conversation_id: int) -> Revision | None:
    """What a repair job's item asks for (None for an ordinary generation job): the base version's
    turns, the reviewer's notes and the judge's failing criteria of that version."""
    if job.kind != REPAIR_JOB:
        return None
    base, notes = int(job.selection["version"]), job.selection["notes"]
    with read(engine) as conn:
        turns = conv_store.load_turns(conn, conversation_id, base)
        judged = judge_store.judgement_of(conn, conversation_id, base)
    if not turns:
        raise InputError(f"conversation {conversation_id} has no version {base} to repair")
    failing = Judgement.from_dict(judged).failing() if judged and not judged.get("error") else []
    return Revision("reviewer_repair", base, tuple(Turn(role=t.role, content=t.content) for t in turns), notes, tuple(fixes_from(failing)))
