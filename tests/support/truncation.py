"""Text cut off without a way to read it: measured in the browser, in the page and in the grid's frame.

An element is cut off when its content is wider than its box (scrollWidth > clientWidth) while it
hides the rest (overflow hidden/clip or an ellipsis), or when a row of chips scrolls sideways. It
is readable all the same when it or a close ancestor names the whole text (a title, an aria-label,
or one of Streamlit's help tooltips).
"""

from __future__ import annotations

# Runs in a document; returns one line per cut-off element that nothing makes readable.
CUT_OFF_JS = """(root) => {
    const scope = root ? document.querySelector(root) : document.body;
    if (!scope) return [];
    const readable = (el) => {
        for (let node = el, depth = 0; node && depth < 6; node = node.parentElement, depth++) {
            if ((node.getAttribute('title') || '').trim() || (node.getAttribute('aria-label') || '').trim()) return true;
            if (node.matches && node.matches('[data-testid="stTooltipHoverTarget"]')) return true;
        }
        return false;
    };
    const found = [];
    for (const el of scope.querySelectorAll('*')) {
        // clientWidth <= 2: visually hidden text for screen readers; aria-hidden: not meant to be read
        if (el.clientWidth <= 2 || el.scrollWidth <= el.clientWidth + 1 || el.closest('[aria-hidden="true"]')) continue;
        const style = getComputedStyle(el);
        const hides = ['hidden', 'clip'].includes(style.overflowX) || style.textOverflow === 'ellipsis';
        const scrollsChips = el.matches('[data-testid="stMultiSelectTagsContainer"]');
        const text = (el.innerText || '').trim();
        if (!text || !(hides || scrollsChips)) continue;
        // A container is not a label (a row of chips that scrolls sideways is reported all the same).
        if (!scrollsChips && el.querySelector('canvas, iframe, svg, table, [data-testid="stVerticalBlock"]')) continue;
        if (readable(el)) continue;
        found.push(`${el.tagName.toLowerCase()}[${el.getAttribute('data-testid') || el.className || ''}]: ` +
                   `"${text.slice(0, 60)}" (${el.scrollWidth} > ${el.clientWidth} px)`);
    }
    return found;
}"""

# Runs in the grid's frame: every cell and header cut off without a title; `fitted` columns must fit.
GRID_CUT_OFF_JS = """(fitted) => {
    const found = [];
    for (const cell of document.querySelectorAll('.ag-center-cols-container .ag-cell, .ag-pinned-left-cols-container .ag-cell')) {
        const column = cell.getAttribute('col-id');
        if (!column || column.startsWith('ag-Grid-')) continue;
        const cut = cell.scrollWidth > cell.clientWidth + 1;
        if (cut && fitted.includes(column)) found.push(`${column}: "${cell.innerText}" cut off in a column sized to its content`);
        else if (cut && !(cell.getAttribute('title') || '').trim()) found.push(`${column}: "${cell.innerText}" cut off without a tooltip`);
    }
    for (const header of document.querySelectorAll('.ag-header-cell-text')) {
        if (header.scrollWidth > header.clientWidth + 1) found.push(`header "${header.innerText}" cut off`);
    }
    return found;
}"""
