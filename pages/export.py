"""Export: choose conversations and a format, build and download the file, check its first records."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from brightrun_gen.config import get_settings
from brightrun_gen.domain.exportformats import FORMATS
from brightrun_gen.domain.vocabulary import DIMENSIONS, STATUS_LABELS, WRITTEN
from brightrun_gen.errors import BrightRunError
from pages.common import app, notify, notify_error, show_error, sidebar

MIME = {"jsonl": "application/jsonl", "json": "application/json", "csv": "text/csv",
        "json-summary": "application/json", "jsonl-summary": "application/jsonl", "zip": "application/zip"}
PREVIEW_RECORDS = 3

sidebar()
state = st.session_state
st.title("Export")
st.caption("Pick the conversations and the format, then build the training file and download it.")


def conversations(n: int) -> str:
    return f"{n} conversation{'' if n == 1 else 's'}"


def include_offline() -> None:
    state.export_offline = True


def build(request, signature: str) -> None:
    """Button callback: write the file for a download, or say why it could not be written."""
    try:
        state.export_file = (signature, *app().exports.download(request))
        notify(f"Export ready: {conversations(state.export_file[3])}.")
    except BrightRunError as exc:
        state.pop("export_file", None)
        notify_error(str(exc))


options = app().conversations.filter_options()
personas = app().catalog.persona_labels()
what_col, format_col = st.columns(2)
statuses = what_col.multiselect("Conversations with status", WRITTEN, default=["approved"],
                                format_func=lambda s: STATUS_LABELS[s], wrap=True,
                                help="Approved conversations are the ones a reviewer accepted for training.")
fmt = format_col.selectbox("Format", list(FORMATS), format_func=lambda name: f"{name}: {FORMATS[name].description}")

with st.expander("Narrow down by dimension (optional)"):
    where = {}
    columns = st.columns(3)
    for i, name in enumerate(DIMENSIONS):
        chosen = columns[i % 3].multiselect(name.replace("_", " ").capitalize(), options.get(name, []),
                                            key=f"export_{name}", format_func=lambda v: personas.get(v, str(v)),
                                            wrap=True)
        if chosen:
            where[name] = chosen

offline_col, system_col = st.columns(2)
with_offline = offline_col.checkbox(
    "Include offline-generated conversations", key="export_offline",
    help="The offline generator writes placeholder conversations for demos; they are not real training data.")
with_system = FORMATS[fmt].system_prompt and system_col.checkbox(
    "Start each conversation with Elena's system prompt", value=True, key="export_system")

if not statuses:
    st.warning("Choose at least one status to export.")
    st.stop()

request = app().exports.request(format=fmt, output=f"brightrun-{fmt}", statuses=statuses, where=where,
                                include_offline=with_offline, include_system=with_system)
try:
    with st.spinner("Counting conversations…"):
        total = app().exports.count(request)
        offline = abs(total - app().exports.count(replace(request, include_offline=not with_offline)))
except BrightRunError as exc:
    show_error(exc)
    st.stop()

st.metric("Conversations to export", total)
if offline and with_offline:
    st.warning(f"{offline} of these {'was' if offline == 1 else 'were'} written by the offline generator: "
               "placeholder text, not real training data. Leave them out unless you are testing the pipeline.",
               icon=":material/warning:")
elif offline:
    with st.container(horizontal=True, vertical_alignment="center"):
        why = " (no API key is set)" if get_settings().effective_provider == "offline" else ""
        st.info(f"{conversations(offline)} with {'this status' if len(statuses) == 1 else 'these statuses'} "
                f"{'was' if offline == 1 else 'were'} written by the offline generator{why} and "
                f"{'is' if offline == 1 else 'are'} left out: placeholder text is not training data.",
                icon=":material/cloud_off:")
        st.button("Include them anyway", icon=":material/add:", on_click=include_offline, key="export_offline_on",
                  help="For testing the pipeline: the file will hold placeholder conversations.")
if total == 0:
    if not offline:
        st.info("Nothing matches yet: approve conversations on the Review page, or choose other statuses.")
    st.stop()

signature = repr(request)
with st.container(horizontal=True, vertical_alignment="center"):
    st.button("Build the export file", type="primary", icon=":material/build:", key="export_build",
              on_click=build, args=(request, signature))
    prepared = state.get("export_file")
    if prepared and prepared[0] == signature:
        _, name, data, count = prepared
        st.download_button(f"Download {name} ({len(data) / 1024:.0f} KB, {conversations(count)})", data,
                           file_name=name, mime=MIME[FORMATS[fmt].layout], icon=":material/download:",
                           on_click="ignore")
    elif prepared:
        st.caption("The choices changed since the last file was built: build it again.")

with st.expander(f"Preview: the first {min(PREVIEW_RECORDS, total)} records exactly as the file will hold them"):
    try:
        records = app().exports.preview(request, n=PREVIEW_RECORDS)
    except BrightRunError as exc:
        show_error(exc)
        st.stop()
    if FORMATS[fmt].layout == "csv":
        st.dataframe(pd.DataFrame(records), hide_index=True)
    else:
        for record in records:
            st.json(record, expanded=2)
