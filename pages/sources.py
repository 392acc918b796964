"""Sources: the firm's own documents, how much each grounds the conversations, and scenarios from them."""

from dataclasses import asdict

import pandas as pd
import streamlit as st

from brightrun_gen.domain.markdown import escape_markdown
from brightrun_gen.errors import BrightRunError
from pages.common import app, forget_shared_reads, notify, notify_error, sidebar

UPLOAD_TYPES = ["md", "markdown", "txt", "html", "htm", "pdf", "docx"]

sidebar()
st.title("Sources")
st.caption("The firm's own documents: fees, process, rules of thumb, products it does not sell. Each planned row's "
           "prompt gets the chunks that fit its topic, scenario or edge case; rows the documents do not cover get none.")
documents = app().documents


def import_uploads() -> None:
    category = st.session_state.get("sources_category") or None
    for upload in st.session_state.get("sources_upload") or []:
        result = documents.import_upload(upload.name, upload.getvalue(), category)
        (notify_error if result.outcome == "failed" else notify)(result.line())
    forget_shared_reads()


def suggest(chunk_ids: list[int]) -> None:
    try:
        stored, problems = documents.suggest_scenarios(chunk_ids)
    except BrightRunError as exc:
        notify_error(str(exc))
        return
    notify(f"{len(stored)} scenario(s) suggested from {len(chunk_ids)} chunk(s)")
    for problem in problems:
        notify_error(problem)


def decide(key: str, accept: bool) -> None:
    try:
        if accept:
            notify(f"Added to the catalog: {documents.accept_scenario(key).title}")
        else:
            documents.dismiss_scenario(key)
    except BrightRunError as exc:
        notify_error(str(exc))


def add_rows() -> None:
    added = documents.add_plan_rows()
    notify(f"{len(added)} plan row(s) added" + (f": {', '.join(added)}" if added else ""))
    forget_shared_reads()


with st.expander("Import documents", icon=":material/upload_file:", expanded=False):
    st.file_uploader("Markdown, text, HTML, PDF or Word files", type=UPLOAD_TYPES, accept_multiple_files=True,
                     key="sources_upload")
    st.text_input("Category (optional)", key="sources_category", placeholder="e.g. Firm handbook")
    st.button("Import", type="primary", on_click=import_uploads, key="sources_import")
    st.caption("Or from a terminal: `brightrun import-docs PATH…`, and the earlier pipeline stage's chunks with "
               "`brightrun import-chunks --from-database URL` or `--csv FILE`.")

listed = documents.list()
unused = documents.chunks(unused_only=True)
docs_col, chunks_col, unused_col, grounded_col = st.columns(4)
docs_col.metric("Documents", len(listed))
chunks_col.metric("Chunks", sum(d.chunks for d in listed))
unused_col.metric("Chunks no conversation uses", len(unused))
grounded_col.metric("Conversations grounded", documents.grounded_count())

if not listed:
    st.info("No documents yet: import the firm's documents above, or with `brightrun import-docs`.")
    st.stop()

st.subheader("Documents")
table = pd.DataFrame([asdict(d) for d in listed]).rename(columns={"conversations": "grounded conversations"})
picked = st.dataframe(table.drop(columns=["id"]), hide_index=True, key="sources_documents", on_select="rerun",
                      selection_mode="single-row")
for position in picked.selection.rows:
    doc = listed[position]
    st.caption(f"Chunks of {escape_markdown(doc.title)}")
    rows = pd.DataFrame([asdict(c) for c in documents.chunks(doc.id)])
    st.dataframe(rows[["position", "section_heading", "token_count", "conversations", "chunk_text"]], hide_index=True,
                 key="sources_document_chunks")

st.subheader("Chunks no conversation uses")
st.caption("Select chunks and ask for Tier-2 scenarios drawn from them; accepted scenarios join the catalog.")
if unused:
    frame = pd.DataFrame([asdict(c) for c in unused])[["document", "section_heading", "token_count", "chunk_text"]]
    chosen = st.dataframe(frame, hide_index=True, key="sources_unused", on_select="rerun", selection_mode="multi-row")
    chosen_ids = [unused[i].id for i in chosen.selection.rows]
    st.button(f"Suggest scenarios ({len(chosen_ids)} chunks)", icon=":material/lightbulb:", key="sources_suggest",
              disabled=not chosen_ids, on_click=suggest, args=(chosen_ids,))
else:
    st.caption("Every chunk has grounded at least one conversation.")

suggested = documents.suggestions(["suggested"])
accepted = documents.suggestions(["accepted"])
if suggested:
    st.subheader("Suggested scenarios")
for item in suggested:
    with st.container(border=True):
        data = item.data
        st.markdown(f"**{escape_markdown(item.title)}** · topic {escape_markdown(data['topic'])} · "
                    f"arc {escape_markdown(data['arc'])} · fits {escape_markdown(', '.join(data['personas']))}")
        st.text(data["context"])
        st.caption(f"Outcome: {escape_markdown(data['desired_outcome'])} · from {', '.join(data['chunk_ids'])}")
        accept_col, dismiss_col, _ = st.columns([1, 1, 4])
        accept_col.button("Accept", key=f"accept_{item.key}", type="primary", on_click=decide, args=(item.key, True))
        dismiss_col.button("Dismiss", key=f"dismiss_{item.key}", on_click=decide, args=(item.key, False))
if accepted:
    st.subheader("Accepted scenarios")
    st.dataframe(pd.DataFrame([{"key": a.key, "title": a.title, "topic": a.data["topic"],
                                "personas": ", ".join(a.data["personas"])} for a in accepted]),
                 hide_index=True, key="sources_accepted")
    st.button("Add plan rows for accepted scenarios", icon=":material/playlist_add:", key="sources_add_rows",
              on_click=add_rows)
