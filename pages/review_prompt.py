"""The Prompt tab: the exact prompt a conversation would be sent now, its size and its examples.

The review page calls `show_prompt(app, view)`; any other page can show the same panel inside its
own container with `prompt_panel(app, conversation_id)` (the dashboard's preview, for instance).
"""

import streamlit as st

from brightrun_gen.brightrun import BrightRun
from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.errors import BrightRunError
from pages.common import show_error

SECTION_HELP = {
    "system": "shared by every conversation: rules, advisor, voice, beat-sheet conventions (cached)",
    "context": "the example conversations chosen for this one (cached for every row shown the same ones)",
    "request": "this conversation's own part: client, situation, emotional path, beat sheet, variation",
}


def show_prompt(app: BrightRun, view) -> None:
    """The review page's Prompt tab, with the examples the current version was written with."""
    (tab,) = st.tabs(["Prompt"])
    with tab:
        prompt_panel(app, view.row.id, (view.parameters or {}).get("examples"))


def prompt_panel(app: BrightRun, conversation_id: int, used_examples=None) -> None:
    """The prompt as it would be sent now: a summary, then system, examples and request."""
    try:
        prompt = app.conversations.prompt(conversation_id)
    except BrightRunError as exc:
        show_error(exc)
        return
    for line in prompt.summary():
        st.caption(escape_markdown(line))
    if used_examples:
        st.caption("The current version was written with the examples "
                   + escape_markdown(", ".join(str(key) for key in used_examples)))
    sizes = {"system": prompt.size.system, "context": prompt.size.context, "request": prompt.size.request}
    for section, tokens in sizes.items():
        with st.expander(f"{section} · about {tokens} tokens", expanded=section == "request"):
            st.caption(SECTION_HELP[section])
            st.code(getattr(prompt, section), language=None, wrap_lines=True)
