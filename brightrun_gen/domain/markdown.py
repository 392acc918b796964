"""The one escaper for text that pages show with st.markdown."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~^$&:=])")


def escape_markdown(text: object) -> str:
    """Text from a model, a seed file or a person, shown as typed: no HTML, no markdown, no emoji or
    LaTeX; line breaks kept, and leading spaces kept without turning a line into a code block."""
    if text is None or text == "":
        return ""
    lines = _MARKDOWN_SPECIAL.sub(r"\\\1", str(text).replace("\r\n", "\n")).split("\n")
    return "  \n".join("&nbsp;" * (len(line) - len(line.lstrip(" "))) + line.lstrip(" ") for line in lines)
