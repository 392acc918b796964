"""Voice profiles in the store: each measurement kept, the newest one in use."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import Connection, select

from brightrun_gen.domain.voice import VoiceProfile
from brightrun_gen.store import tables as t

_c = t.voice_profiles.c


def save_voice(conn: Connection, profile: VoiceProfile, source: str) -> bool:
    """Store a measurement unless the newest one is the same; True when stored."""
    data = profile.model_dump()
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()
    newest = conn.execute(select(_c.content_hash, _c.source).order_by(_c.id.desc()).limit(1)).first()
    if newest is not None and (newest.content_hash, newest.source) == (digest, source[:500]):
        return False
    conn.execute(t.voice_profiles.insert().values(source=source[:500], profile=data, content_hash=digest))
    return True


def active_voice(conn: Connection) -> tuple[VoiceProfile, str] | None:
    """The newest voice profile and what it was measured from, or None before the first."""
    row = conn.execute(select(_c.profile, _c.source).order_by(_c.id.desc()).limit(1)).first()
    if row is None:
        return None
    return VoiceProfile.model_validate(row.profile), row.source
