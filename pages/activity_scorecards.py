"""The Activity page's template scorecards: which prompt template versions earn approvals."""

import streamlit as st


def show_scorecards(app) -> None:
    st.subheader("Template scorecards")
    table = app.report.templates_table()
    if table.empty:
        st.info("No generated conversations yet: scorecards appear once templates have written some.")
        return
    st.caption("One row per prompt template version and judge rubric version. Approval rate counts each version's "
               "last decision; judge columns are mean scores (1-5); “judge agrees” is how often a judged pass was "
               "approved and a judged fail was not.")
    st.dataframe(table, hide_index=True, key="scorecard_table", column_config={
        "approval rate": st.column_config.NumberColumn(format="percent"),
        "judge agrees": st.column_config.NumberColumn(format="percent"),
        "mean cost (USD)": st.column_config.NumberColumn(format="$%.4f"),
    })
