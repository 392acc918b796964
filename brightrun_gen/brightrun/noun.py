"""What every noun of the facade shares: the app it belongs to, and the app's engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brightrun_gen.brightrun import BrightRun


class Noun:
    def __init__(self, app: BrightRun):
        self.app = app

    @property
    def engine(self):
        return self.app.engine
