"""Export: choose conversations and a format, preview the records, download the file."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from brightrun_gen.domain.exportformats import FORMATS
from brightrun_gen.domain.models import DIMENSIONS, WRITTEN
from brightrun_gen.errors import BrightRunError
from pages.common import app, show_error, sidebar

MIME = {"jsonl": "application/jsonl", "json": "application/json", "csv": "text/csv",
        "json-summary": "application/json", "jsonl-summary": "application/jsonl", "zip": "application/zip"}

sidebar()
state = st.session_state
st.title("Export")
st.caption("Pick which conversations go into the training file and in which format, check the preview, "
           "then build and download the file.")

options = app().conversations.filter_options()
personas = app().catalog.persona_labels()
what_col, format_col = st.columns(2)
statuses = what_col.multiselect("Conversations with status", WRITTEN, default=["approved"],
                                format_func=lambda s: s.replace("_", " "),
                                help="Approved conversations are the ones a reviewer accepted for training.")
fmt = format_col.selectbox("Format", list(FORMATS), format_func=lambda name: f"{name}: {FORMATS[name].description}")

with st.expander("Narrow down by dimension (optional)"):
    where = {}
    columns = st.columns(3)
    for i, name in enumerate(DIMENSIONS):
        chosen = columns[i % 3].multiselect(name.replace("_", " ").capitalize(), options.get(name, []),
                                            key=f"export_{name}", format_func=lambda v: personas.get(v, str(v)))
        if chosen:
            where[name] = chosen

offline_col, system_col = st.columns(2)
include_offline = offline_col.checkbox(
    "Include offline-generated conversations", value=False,
    help="The offline generator writes placeholder conversations for demos; they are not real training data.")
include_system = system_col.checkbox("Start each conversation with Elena's system prompt", value=True)

if not statuses:
    st.warning("Choose at least one status to export.")
    st.stop()

request = app().exports.request(format=fmt, output=f"brightrun-{fmt}", statuses=statuses, where=where,
                                  include_offline=include_offline, include_system=include_system)
try:
    with st.spinner("Counting conversations…"):
        total = app().exports.count(request)
        other = app().exports.count(replace(request, include_offline=not include_offline))
        offline = abs(total - other)
except BrightRunError as exc:
    show_error(exc)
    st.stop()

st.metric("Conversations to export", total)
if offline and include_offline:
    st.warning(f"{offline} of these were written by the offline generator: placeholder text, not real "
               "training data. Leave them out unless you are testing the pipeline.", icon=":material/warning:")
elif offline:
    st.info(f"{offline} offline-generated conversation(s) also match and are left out.")
if total == 0:
    st.info("Nothing matches yet: approve conversations on the Review page, or choose other statuses.")
    st.stop()

st.subheader("Preview")
try:
    with st.spinner("Building the preview…"):
        records = app().exports.preview(request, n=3)
except BrightRunError as exc:
    show_error(exc)
    st.stop()
st.caption(f"The first {len(records)} record(s) exactly as the file will hold them.")
if FORMATS[fmt].layout == "csv":
    st.dataframe(pd.DataFrame(records), hide_index=True)
else:
    for record in records:
        st.json(record, expanded=3)


st.subheader("Download")
signature = repr(request)
if st.button("Build the export file", type="primary", icon=":material/build:"):
    try:
        with st.spinner(f"Writing {total} conversation(s)…"):
            state.export_file = (signature, *app().exports.download(request))
        st.toast(f"Export ready: {state.export_file[3]} conversation(s).", icon=":material/check_circle:")
    except BrightRunError as exc:
        state.pop("export_file", None)
        show_error(exc)

prepared = state.get("export_file")
if prepared and prepared[0] == signature:
    _, name, data, conversations = prepared
    st.download_button(f"Download {name} ({len(data) / 1024:.0f} KB, {conversations} conversations)", data,
                       file_name=name, mime=MIME[FORMATS[fmt].layout], icon=":material/download:",
                       on_click="ignore")
elif prepared:
    st.caption("The choices changed since the last file was built: build it again.")
