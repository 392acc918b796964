"""Catalog: what conversations are built from, read-only and searchable."""

import pandas as pd
import streamlit as st

from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.domain.voice import voice_lines
from brightrun_gen.errors import BrightRunError
from pages.common import act, app, show_error, sidebar

sidebar()
st.title("Catalog")
st.caption("Personas, emotions, storylines, topics, prompt templates, our own seed conversations and the firm's "
           "voice. Read-only here: they come from the seeds/ and prompts/ folders when the store is initialized.")

search = st.text_input("Search every tab", key="catalog_search", placeholder="e.g. retire, anxious, 401(k)")


def matches(count: int, noun: str) -> None:
    suffix = f" matching “{escape_markdown(search.strip())}”" if search.strip() else ""
    st.caption(f"{count} {noun}{suffix}")


catalog = app().catalog
tabs = st.tabs([*catalog.SECTIONS, "Prompt templates", "Seed conversations", "Firm voice"])
for tab, section in zip(tabs, catalog.SECTIONS.values()):
    with tab:
        table = catalog.table(section, search)
        matches(len(table), "entries · select a row to read it in full")
        picked = st.dataframe(table, hide_index=True, key=f"catalog_{section}", on_select="rerun",
                              selection_mode="single-row")
        for position in picked.selection.rows:
            st.json(catalog.entry(section, table.iloc[position]["key"]))

with tabs[-3]:
    templates = catalog.templates(search)
    matches(len(templates), "template versions")
    st.dataframe(templates.drop(columns="body"), hide_index=True, key="catalog_templates")
    if not templates.empty:
        shown = st.selectbox("Read the template", templates.index, key="catalog_template_pick",
                             format_func=lambda i: f"{templates.loc[i, 'name']} · version "
                                                   f"{templates.loc[i, 'version']}"
                                                   f"{' (active)' if templates.loc[i, 'active'] else ''}")
        st.code(templates.loc[shown, "body"], language=None, wrap_lines=True)

with tabs[-2]:
    seeds = catalog.seeds(search)
    matches(len(seeds), "seed conversations")
    st.dataframe(seeds, hide_index=True, key="catalog_seeds")
    if not seeds.empty:
        titles = dict(zip(seeds["id"], seeds["key"] + " · " + seeds["title"].astype(str)))
        picked = st.selectbox("Read a seed conversation", list(titles), format_func=titles.get,
                              key="catalog_seed_pick")
        try:
            detail, annotations = app().conversations.with_annotations(int(picked))
        except BrightRunError as exc:
            show_error(exc)
            st.stop()
        st.page_link("pages/review.py", label="Open in Review", icon=":material/rate_review:",
                     query_params={"id": str(picked)})
        turns_col, notes_col = st.columns([3, 2], gap="large")
        with turns_col:
            for turn in detail.turns:
                with st.chat_message(turn.role):
                    st.text(turn.content)
        with notes_col:
            st.caption("Annotations (metadata)")
            st.json(annotations, expanded=2)
            dimensions = {name: str(value) for name, value in detail.row.dimensions.model_dump().items() if value}
            st.dataframe(pd.DataFrame(dimensions.items(), columns=["dimension", "value"]), hide_index=True)

with tabs[-1]:
    st.caption("How the firm's real conversations read, measured from the imported console-era files; every prompt "
               "states it in its shared part. `brightrun voice` measures it again, or from other files.")
    st.button("Measure again from the imported conversations", key="catalog_voice_measure",
              icon=":material/graphic_eq:", on_click=act,
              args=(lambda: f"Voice measured from {catalog.measure_voice().source}",))
    found = catalog.voice()
    if found is None:
        st.info("No voice profile yet: import the firm's seed files (`brightrun import-seeds PATH`), then measure it.")
    else:
        profile, source = found
        st.markdown(f"**Measured from** {escape_markdown(source)}")
        st.code("\n".join(voice_lines(profile)), language=None, wrap_lines=True)
        with st.expander("Every figure"):
            st.json(profile.model_dump(), expanded=1)
