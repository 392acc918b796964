"""Reading a Messages request body: is it valid, its text, its cache markers, its persona and topic."""

from __future__ import annotations

import re
from typing import Any


def validate(body: dict | None, *, where: str = "") -> str | None:
    """What is wrong with a Messages request body, as the API's 400 says it; None when nothing is."""
    if body is None:
        return f"{where}body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return f"{where}model: Field required"
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return f"{where}max_tokens: Field required (integer >= 1)"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return f"{where}messages: at least one message is required"
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return f"{where}messages.{i}.role: must be 'user' or 'assistant'"
        if "content" not in message:
            return f"{where}messages.{i}.content: Field required"
    return None


def block_text(block: Any) -> list[str]:
    """The text of a content block, a list of them or a plain string."""
    if isinstance(block, str):
        return [block]
    if isinstance(block, list):
        out: list[str] = []
        for item in block:
            out.extend(block_text(item))
        return out
    if isinstance(block, dict):
        out = []
        if isinstance(block.get("text"), str):
            out.append(block["text"])
        if "content" in block:  # tool_result and friends
            out.extend(block_text(block["content"]))
        return out
    return []


def system_text(body: dict) -> str:
    """The text of the system prompt."""
    return "\n".join(block_text(body.get("system") or []))


def request_text(body: dict | None) -> str:
    """System text plus the text of every message, joined by newlines."""
    if not isinstance(body, dict):
        return ""
    parts = [system_text(body)] if body.get("system") else []
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            parts.extend(block_text(message.get("content")))
    return "\n".join(p for p in parts if p)


def cache_prefixes(body: dict) -> list[str]:
    """The prompt up to and including each block marked with cache_control, in prompt order
    (system blocks, then message content blocks), as the API forms its cache prefixes."""
    blocks: list[tuple[str, bool]] = []
    system = body.get("system")
    for block in system if isinstance(system, list) else [system] if system else []:
        marked = isinstance(block, dict) and bool(block.get("cache_control"))
        blocks.append(("\n".join(block_text(block)), marked))
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else [content] if content else []:
            marked = isinstance(block, dict) and bool(block.get("cache_control"))
            blocks.append(("\n".join(block_text(block)), marked))
    texts, prefixes = [], []
    for text, marked in blocks:
        texts.append(text)
        if marked:
            prefixes.append("\n".join(t for t in texts if t))
    return prefixes


def is_judge_request(body: dict) -> bool:
    """A content judge's call: its output schema asks for criteria, not turns."""
    schema = ((body.get("output_config") or {}).get("format") or {}).get("schema") or {}
    return "criteria" in (schema.get("properties") or {})


_PERSONA_RE = re.compile(r"Client persona: (.+)")
_TOPIC_RE = re.compile(r"Topic: (.+)")


def extract_persona_topic(text: str) -> tuple[str, str]:
    """(persona, topic) from `Client persona: ...` / `Topic: ...` lines, with fallbacks."""
    persona_match = _PERSONA_RE.search(text)
    topic_match = _TOPIC_RE.search(text)
    persona = persona_match.group(1).strip() if persona_match else ""
    topic = topic_match.group(1).strip() if topic_match else ""
    return persona or "the client", topic or "their finances"
