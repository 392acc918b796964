"""Dashboard: every planned and seed conversation in one table."""

import streamlit as st

from brightrun_gen.services import browse
from pages.common import engine, sidebar

sidebar()
st.title("Conversations")
table = browse.conversation_table(engine())
st.caption(f"{len(table)} conversations")
st.dataframe(table, hide_index=True, use_container_width=True)
