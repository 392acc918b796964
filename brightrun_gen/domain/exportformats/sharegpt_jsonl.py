"""ShareGPT JSONL: one {"conversations": [{from, value}, …]} per conversation."""

from __future__ import annotations

from brightrun_gen.domain.exportformats.base import ExportContext, ExportConversation, ExportFormat
from brightrun_gen.domain.exportformats.checks import messages_problem

_SHAREGPT_FROM = {"user": "human", "assistant": "gpt"}


def sharegpt_records(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    system = [{"from": "system", "value": ctx.system_prompt}] if ctx.system_prompt else []
    return [{"conversations": system + [{"from": _SHAREGPT_FROM[t.role], "value": t.content} for t in conv.turns]}]


def check_sharegpt(record: dict) -> str | None:
    return messages_problem(record, "conversations", "from", "value", ("system", "human", "gpt"))


FORMAT = ExportFormat("sharegpt", ".jsonl", "jsonl", sharegpt_records, check_sharegpt,
                      "ShareGPT JSONL: {\"conversations\": [{from, value}, …]}",
                      system_prompt=True)
