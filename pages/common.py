"""What every page shares: the store connection (once per server process) and the sidebar."""

import streamlit as st

from brightrun_gen.config import get_settings
from brightrun_gen.services.setup import open_engine, database_label


@st.cache_resource
def engine():
    return open_engine()


def sidebar() -> None:
    settings = get_settings()
    with st.sidebar:
        st.caption(f"Database: `{database_label(engine())}`")
        st.caption(f"Provider: {settings.effective_provider}")
