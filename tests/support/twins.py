"""Two planned rows written with the very same text: the near-duplicate every dedupe test needs."""

from __future__ import annotations

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.domain.vocabulary import OFFLINE_MODEL
from brightrun_gen.llm.offline import OfflineProvider
from brightrun_gen.services import generation

FIRST, SECOND = "T1-003", "T2-014"


class RepeatingProvider:
    """The offline provider's answer to one prompt, given again to every prompt (labelled offline)."""

    name = "offline"
    model = OFFLINE_MODEL

    def __init__(self, answer):
        self.answer = answer

    def generate(self, prompt):
        return self.answer


def generate_twins(app: BrightRun, keys: tuple[str, str] = (FIRST, SECOND)) -> None:
    """Generate both rows, the first and then the second, with the first row's offline answer.

    The generation service is called with a provider of the test's own: no setting chooses one
    that repeats an answer."""
    ids = [app.conversations.find_id(key) for key in keys]
    answer = OfflineProvider().generate(generation.prepare(app.engine, ids[0], settings=app.settings).prompt)
    for cid in ids:
        assert generation.generate_one(app.engine, cid, settings=app.settings,
                                       provider=RepeatingProvider(answer)).status == "generated"
