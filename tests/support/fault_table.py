"""The fault table printed at the end of a run: each fault with its items, lost, duplicated and stuck counts."""

from __future__ import annotations

from typing import Callable

ROWS: list[tuple[str, int, int, int, int]] = []


def add_row(fault: str, items: int, lost: int, duplicated: int, stuck: int) -> None:
    ROWS.append((fault, items, lost, duplicated, stuck))


def write_table(write_line: Callable[[str], None]) -> None:
    """Write the table, when a fault test ran."""
    if not ROWS:
        return
    write_line("")
    write_line(f"{'fault':44s} {'items':>5s} {'lost':>5s} {'duplicated':>10s} {'stuck':>5s}")
    for fault, items, lost, duplicated, stuck in ROWS:
        write_line(f"{fault:44s} {items:5d} {lost:5d} {duplicated:10d} {stuck:5d}")
