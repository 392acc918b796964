"""The review page's Prompt tab: the exact prompt this conversation would be sent now."""

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
    """The prompt as it would be sent now, its size and cacheable share, and the examples it shows."""
    (tab,) = st.tabs(["Prompt"])
    with tab:
        try:
            prompt = app.conversations.prompt(view.row.id)
        except BrightRunError as exc:
            show_error(exc)
            return
        for line in prompt.summary():
            st.caption(escape_markdown(line))
        used = (view.parameters or {}).get("examples")
        if used:
            st.caption("The current version was written with the examples "
                       + escape_markdown(", ".join(str(key) for key in used)))
        sizes = {"system": prompt.size.system, "context": prompt.size.context, "request": prompt.size.request}
        for section, tokens in sizes.items():
            with st.expander(f"{section} · about {tokens} tokens", expanded=section == "request"):
                st.caption(SECTION_HELP[section])
                st.code(getattr(prompt, section), language=None, wrap_lines=True)
