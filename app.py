"""Bright Run: the Streamlit entry point. Pages live in pages/; this file only wires navigation."""

import streamlit as st

st.set_page_config(page_title="Bright Run", page_icon="☀️", layout="wide")

navigation = st.navigation([
    st.Page("pages/dashboard.py", title="Dashboard", icon=":material/table_view:", default=True),
])
navigation.run()
