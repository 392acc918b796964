"""Catalog: what conversations are built from, searchable; prompt template versions can be switched here."""

import pandas as pd
import streamlit as st

from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.domain.voice import voice_lines
from brightrun_gen.errors import BrightRunError
from pages.common import AVATARS, act, app, show_error, sidebar

sidebar()
st.title("Catalog")
st.caption("Personas, emotions, storylines, topics, prompt templates, our own seed conversations and the firm's voice, as loaded "
           "from the seeds/ and prompts/ folders when the store is initialized; only which template versions "
           "write new conversations can be changed here.")

search = st.text_input("Search every tab", key="catalog_search", placeholder="e.g. retire, anxious, 401(k)")
catalog = app().catalog
tables = {name: catalog.table(section, search) for name, section in catalog.SECTIONS.items()}
templates = catalog.templates(search)
seeds = catalog.seeds(search)


def tab_title(name: str, count: int) -> str:
    return f"{name} ({count})" if search.strip() else name


def matches(count: int, noun: str) -> None:
    suffix = f" matching “{escape_markdown(search.strip())}”" if search.strip() else ""
    st.caption(f"{count} {noun}{suffix}")


tabs = st.tabs([*(tab_title(name, len(table)) for name, table in tables.items()),
                tab_title("Prompt templates", len(templates)), tab_title("Seed conversations", len(seeds)), "Firm voice"])
for tab, (section, table) in zip(tabs, zip(catalog.SECTIONS.values(), tables.values())):
    with tab:
        matches(len(table), "entries · select a row to read it in full")
        picked = st.dataframe(table, hide_index=True, key=f"catalog_{section}", on_select="rerun",
                              selection_mode="single-row")
        for position in picked.selection.rows:
            st.json(catalog.entry(section, table.iloc[position]["key"]))


def template_versions() -> None:
    matches(len(templates), "template versions · new rows of a tier are split between its active versions "
                            "by their shares")
    st.dataframe(templates.drop(columns=["id", "body"]), hide_index=True, key="catalog_templates", column_config={
        "stored": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "share": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%d")})
    if templates.empty:
        return
    shown = st.selectbox("Template version", templates.index, key="catalog_template_pick",
                         format_func=lambda i: f"{templates.loc[i, 'name']} v{templates.loc[i, 'version']} · "
                                               f"{templates.loc[i, 'hash'][:6]}"
                                               f"{' (active)' if templates.loc[i, 'active'] else ''}")
    chosen = templates.loc[shown]
    template_id = int(chosen["id"])
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button(f"Make it the only active version of tier {chosen['tier']}", icon=":material/check_circle:",
                  key="template_only", on_click=act, args=(lambda: catalog.activate_template(template_id),),
                  disabled=bool(chosen["active"]) and chosen["share"] == 100)
        share = st.number_input("Share of new rows", min_value=1, max_value=100, value=50, step=5,
                                key="template_share", width=180)
        st.button("Try it on this share", icon=":material/science:", key="template_share_on",
                  on_click=act, args=(lambda: catalog.activate_template(template_id, share=share, only=False),),
                  help="Keep the other active versions; new rows of this tier are split by the shares.")
        st.button("Deactivate", icon=":material/block:", key="template_off", disabled=not chosen["active"],
                  on_click=act, args=(lambda: catalog.deactivate_template(template_id),))
    st.code(chosen["body"], language=None, wrap_lines=True)


with tabs[-3]:
    template_versions()

with tabs[-2]:
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
                with st.chat_message(turn.role, avatar=AVATARS.get(turn.role)):
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
