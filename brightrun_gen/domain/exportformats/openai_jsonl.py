"""OpenAI / TRL conversational JSONL: one {"messages": [{role, content}, …]} per conversation."""

from __future__ import annotations

from brightrun_gen.domain.exportformats.base import ExportContext, ExportConversation, ExportFormat
from brightrun_gen.domain.exportformats.checks import messages_problem


def openai_records(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    system = [{"role": "system", "content": ctx.system_prompt}] if ctx.system_prompt else []
    return [{"messages": system + [{"role": t.role, "content": t.content} for t in conv.turns]}]


def check_openai(record: dict) -> str | None:
    return messages_problem(record, "messages", "role", "content", ("system", "user", "assistant"))


FORMAT = ExportFormat("openai", ".jsonl", "jsonl", openai_records, check_openai,
                      "OpenAI / TRL conversational JSONL: {\"messages\": [{role, content}, …]}",
                      system_prompt=True)
