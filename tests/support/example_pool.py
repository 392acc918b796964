"""The example pool as the generation service builds it, from the files: our seeds and the firm's real ones."""

from __future__ import annotations

from brightrun_gen.domain.catalog import load_catalog
from brightrun_gen.domain.examples import Example, match_topic
from brightrun_gen.domain.seedfiles import parse_seed_file
from tests.support.paths import REAL_SEEDS, REPO

CATALOG = load_catalog(REPO / "seeds" / "catalog")
SEEDS = [r for path in sorted((REPO / "seeds" / "conversations").glob("*.json")) for r in parse_seed_file(path)]


def pool() -> list[Example]:
    """Our seeds and the firm's real seeds, as the generation service builds its example pool."""
    real = [r for path in sorted(REAL_SEEDS.glob("*.json")) for r in parse_seed_file(path)]
    return [Example(r.key, r.metadata.get("title", r.key), "real" if r in real else "seed", r.dimensions,
                    tuple((t.role, t.content) for t in r.turns),
                    r.dimensions.topic if r in SEEDS else match_topic(r.dimensions.topic, CATALOG))
            for r in [*SEEDS, *real]]
