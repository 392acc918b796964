"""Bright Run: the Streamlit entry point. Pages live in pages/; this file only wires navigation."""

import streamlit as st

st.set_page_config(page_title="Bright Run", page_icon="☀️", layout="wide")

navigation = st.navigation([
    st.Page("pages/dashboard.py", title="Dashboard", icon=":material/table_view:", url_path="home", default=True),
    st.Page("pages/review.py", title="Review", icon=":material/rate_review:", url_path="review"),
    st.Page("pages/export.py", title="Export", icon=":material/download:", url_path="export"),
    st.Page("pages/plan.py", title="Plan", icon=":material/grid_view:", url_path="plan"),
    st.Page("pages/catalog.py", title="Catalog", icon=":material/menu_book:", url_path="catalog"),
    st.Page("pages/activity.py", title="Activity", icon=":material/insights:", url_path="activity"),
    st.Page("pages/sources.py", title="Sources", icon=":material/library_books:", url_path="sources"),
    # The default page lives at "/"; /dashboard (bookmarks, links) opens it too instead of "page not found".
    st.Page("pages/dashboard.py", title="Dashboard", url_path="dashboard", visibility="hidden"),
])
navigation.run()
