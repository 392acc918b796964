"""Where the tests find the repository and the real seed files."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# /work/shared sits beside the repo here; CI symlinks `shared` beside its clone.
REAL_SEEDS = REPO.parent / "shared" / "fixtures" / "real-seeds"
