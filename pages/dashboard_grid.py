"""The dashboard's table: AG Grid options, what a click sends back, and the first rows drawn before it loads."""

import html
import json

import streamlit as st
from st_aggrid import AgGrid, JsCode

GRID_KEY = "dashboard_grid"
GRID_HEIGHT = 560
ROW_HEIGHT = 34
HEADER_HEIGHT = 40
# Badge colours' meaning (grey idle, blue busy, violet written, green good, orange/red bad), keyed by raw status.
STATUS_HEX = {"not_generated": "#6b7280", "queued": "#2563eb", "generating": "#2563eb", "generated": "#7c3aed",
              "approved": "#15803d", "needs_edit": "#c2410c", "rejected": "#b91c1c", "failed": "#b91c1c",
              "seed": "#6b7280"}
# Columns sized to their content (never cut off); the three long text columns share the rest and show
# their whole text as a tooltip when they do not fit.
FITTED = ["key", "tier", "status", "quality_score", "model", "updated_at", "action"]
COLUMNS = [
    ("key", "ID"), ("persona", "Persona"), ("emotion", "Emotion"), ("topic", "Topic"), ("tier", "Tier"),
    ("status", "Status"), ("quality_score", "Quality"), ("model", "Model"), ("updated_at", "Last updated"),
    ("action", "Actions"),
]

# An explicit style for every value: AG Grid keeps a cell's previous style when the function
# returns null, so a row that stopped being offline kept the amber italic after a refresh.
MODEL_STYLE = JsCode("""function(p) {
    return p.value === 'offline' ? {color: '#b45309', fontStyle: 'italic'} : {color: 'inherit', fontStyle: 'normal'};
}""")
STATUS_STYLE = JsCode("function(p) { const c = %s; return {color: c[p.data.status_key] || 'inherit', fontWeight: 600}; }"
                      % json.dumps(STATUS_HEX))
# '11-30 10:12': the year only in the tooltip, so the column stays narrow; it sorts on the full value.
SHORT_TIME = JsCode("function(p) { return typeof p.value === 'string' ? p.value.slice(5) : ''; }")
STATUS_TOOLTIP = JsCode("function(p) { return p.data.failed_note || p.value; }")
# The Actions cell: a small button; the click reaches Python as a cellClicked event on this column.
ACTION_CELL = JsCode("""class {
    init(p) { this.button = document.createElement('button'); this.button.className = 'br-action'; this.refresh(p); }
    getGui() { return this.button; }
    refresh(p) {
        const again = p.value === 'Regenerate';
        this.button.textContent = again ? '↻ Redo' : '▶ Run';
        this.button.style.display = p.value ? '' : 'none';
        this.button.title = again ? 'Regenerate ' + p.data.key + ': a new version (asks first)' : 'Generate ' + p.data.key;
        this.button.setAttribute('aria-label', (p.value || '') + ' ' + p.data.key);
        return true;
    }
}""")
# A job queued from a selection clears the ticks: the page raises context.selectionEpoch, and the
# next data update (the queued rows change status) deselects every row once.
CLEAR_TICKS = JsCode("""function(e) {
    const epoch = e.api.getGridOption('context').selectionEpoch;
    if (window.brSelectionEpoch !== undefined && window.brSelectionEpoch !== epoch) { e.api.deselectAll(); }
    window.brSelectionEpoch = epoch;
}""")


def _column(field: str, header: str) -> dict:
    column = {"field": field, "headerName": header, "tooltipField": "persona_label" if field == "persona" else field}
    if field not in FITTED:
        column.update(flex=1, minWidth=100)
    if field == "key":
        column["pinned"] = "left"
    if field == "status":
        column.update(cellStyle=STATUS_STYLE, tooltipValueGetter=STATUS_TOOLTIP, tooltipField=None)
    if field == "model":
        column["cellStyle"] = MODEL_STYLE
    if field == "quality_score":
        column["type"] = "numericColumn"
    if field == "updated_at":
        column["valueFormatter"] = SHORT_TIME
    if field == "action":
        column.update(cellRenderer=ACTION_CELL, sortable=False, tooltipField=None)
    return {k: v for k, v in column.items() if v is not None}


def grid_options(selection_epoch: int) -> dict:
    return {
        "columnDefs": [_column(field, header) for field, header in COLUMNS] + [
            {"field": name, "hide": True}
            for name in ("id", "status_key", "version", "model_key", "failed_note", "persona_label")],
        # cellDataType False: the values are display text; AG Grid would otherwise guess types (a time
        # string becomes a Date) from the first rows it gets.
        "defaultColDef": {"sortable": True, "resizable": True, "filter": False, "suppressHeaderMenuButton": True,
                          "cellDataType": False},
        "autoSizeStrategy": {"type": "fitCellContents", "colIds": FITTED},
        # Autosizing measures rendered cells only: render every column (there are ten).
        "suppressColumnVirtualisation": True,
        "rowSelection": {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True,
                         "enableClickSelection": False, "selectAll": "filtered"},
        # The ticks and the ID stay in view when a narrow window scrolls the table sideways.
        "selectionColumnDef": {"pinned": "left", "width": 44, "maxWidth": 44, "resizable": False},
        # Row ids are conversation ids, so a selection survives filter changes and table refreshes.
        "getRowId": JsCode("function(p) { return String(p.data.id); }"),
        "rowHeight": ROW_HEIGHT,
        "headerHeight": HEADER_HEIGHT,
        # Browser tooltips (the title attribute): every cell that can be cut off names its whole value.
        "enableBrowserTooltips": True,
        "overlayNoRowsTemplate": "No conversations match these filters.",
        "context": {"selectionEpoch": selection_epoch},
        "onRowDataUpdated": CLEAR_TICKS,
    }


# Only the selection, a clicked row and a clicked action travel back to Python, not 10,000 rows;
# `at` tells a new click from the same value returned again on a later rerun.
GRID_RETURN = JsCode("""function({streamlitRerunEventTriggerName, eventData}) {
    const cell = streamlitRerunEventTriggerName === 'cellClicked' && eventData.data && eventData.colDef.field;
    const action = cell === 'action' && eventData.value ? eventData.data.key : null;
    return {selected: eventData.api.getSelectedRows().map(r => r.id),
            clicked: cell && cell !== 'action' ? eventData.data.key : null, action: action, at: Date.now()};
}""")
GRID_CSS = {
    ".br-action": {"font": "inherit", "font-size": "0.85em", "padding": "1px 10px", "line-height": "22px",
                   "border": "1px solid #d6cfc4", "border-radius": "6px", "background": "#fffdf9", "cursor": "pointer"},
    ".br-action:hover": {"border-color": "#E8893A", "color": "#c2410c"},
}


FIELDS = [field for field, _ in COLUMNS] + ["id", "status_key", "version", "model_key", "failed_note", "persona_label"]


def table_grid(table, selection_epoch: int, first_paint: bool = True) -> dict:
    """Draw the grid over its first rows (drawn at once, covered when the grid is ready); returns its value.

    The rows go as one JSON string (use_json_serialization; "server_wins": the grid takes them at every
    run, keeping selection, sort and scroll by row id) rather than as Arrow, which st_aggrid builds and
    hashes at every run: during a job every open dashboard redraws the grid at each progress poll,
    and that conversion was most of the server's time (bench/bench_load.py)."""
    if first_paint:
        first_rows(table)
    else:
        st.markdown(STAND_IN, unsafe_allow_html=True)
    return AgGrid(table[FIELDS], gridOptions=grid_options(selection_epoch), key=GRID_KEY, height=GRID_HEIGHT,
                  allow_unsafe_jscode=True, use_json_serialization=True, server_sync_strategy="server_wins",
                  data_return_mode="CUSTOM", custom_jscode_for_grid_return=GRID_RETURN,
                  update_on=["selectionChanged", "cellClicked"], custom_css=GRID_CSS) or {}


def first_rows(table) -> None:
    """The rows that fit in the grid's height as plain HTML, in the grid's place, so the table reads at
    once on a first visit while AG Grid (a 4.7 MB script in its own frame) loads; the grid covers them."""
    fields = [field for field, _ in COLUMNS if field != "action"]
    shown = table.head((GRID_HEIGHT - HEADER_HEIGHT) // ROW_HEIGHT)[fields].astype(object)
    shown = shown.where(shown.notna(), "")
    head = "".join(f"<th>{html.escape(header)}</th>" for field, header in COLUMNS if field != "action")
    rows = "".join("<tr><td></td>" + "".join(f"<td>{_cell(value)}</td>" for value in record) + "</tr>"
                   for record in shown.itertuples(index=False))
    # st.markdown, not st.html: its renderer is in Streamlit's first script, st.html's is fetched on first use.
    st.markdown(f"""<style>{FIRST_ROWS_CSS}</style><div class="br-first-rows" aria-hidden="true"><table><thead>
<tr><th class="br-tick"></th>{head}</tr></thead><tbody>{rows}</tbody></table></div>""", unsafe_allow_html=True)


# What stands in the first rows' place once the grid has loaded (same element, so nothing moves).
STAND_IN = '<div class="br-first-rows" aria-hidden="true"></div>'


def _cell(value) -> str:
    """Catalog and plan text as inert HTML on one line: a blank line or a $ would turn the rest into Markdown."""
    return html.escape(" ".join(str(value).split())).replace("$", "&#36;")


# The first rows sit under the grid's frame: the frame is transparent until AG Grid paints its own
# (opaque) rows over them. Row and header heights are the grid's, so nothing moves when it does.
FIRST_ROWS_CSS = f"""
iframe[data-testid="stCustomComponentV1"] {{ position: relative; z-index: 1; }}
.br-first-rows {{ height: 0; overflow: visible; position: relative; }}
.br-first-rows table {{ position: absolute; top: 1rem; left: 0; width: 100%; border-collapse: collapse;
    table-layout: fixed; font-size: 14px; border: 1px solid #e5e0d8; border-radius: 8px; }}
.br-first-rows th {{ height: {HEADER_HEIGHT}px; font-weight: 600; background: #f6f1ea; }}
.br-first-rows td {{ height: {ROW_HEIGHT - 1}px; border-top: 1px solid #eee7dd; }}
.br-first-rows th, .br-first-rows td {{ padding: 0 8px; text-align: left; white-space: nowrap; overflow: hidden;
    text-overflow: ellipsis; }}
.br-first-rows .br-tick {{ width: 40px; }}
"""
