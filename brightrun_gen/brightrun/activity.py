"""What the plan, the log and the decisions say: funnel, coverage, usage, template scorecards."""

from __future__ import annotations

from typing import Sequence

from brightrun_gen.brightrun.noun import Noun
from brightrun_gen.services import insights, scorecards


class Activity(Noun):
    """How far the plan is, how good the conversations are, what generation costs."""

    COVERAGE_COLUMNS = insights.COVERAGE_COLUMNS
    COVERAGE_MEASURES = insights.COVERAGE_MEASURES
    OUTCOMES = insights.OUTCOMES

    def funnel(self):
        return insights.funnel(self.engine)

    def coverage(self, columns: str = "storyline", measure: str = "count"):
        return insights.coverage(self.engine, columns, measure)

    def quality_distribution(self):
        return insights.quality_distribution(self.engine)

    def usage_per_day(self):
        return insights.usage_per_day(self.engine)

    def attempt_log(self, outcomes: Sequence[str] = (), key_text: str = "", limit: int = 500):
        return insights.attempt_log(self.engine, outcomes, key_text, limit)


class Report(Noun):
    """What the log and the decisions say about the prompts: template scorecards."""

    def templates(self):
        return scorecards.template_scorecards(self.engine)

    def templates_table(self):
        return scorecards.scorecard_table(self.templates())
