"""PostgreSQL DDL generated from the table metadata: `python -m brightrun_gen.store.ddl > sql/schema.sql`."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from brightrun_gen.store.tables import metadata

HEADER = """-- Bright Run schema for PostgreSQL 15 / Supabase. GENERATED from brightrun_gen/store/tables/:
-- do not edit; run `python -m brightrun_gen.store.ddl > sql/schema.sql` after changing the tables.
-- `brightrun init --db postgresql://...` creates the same schema and records migrations; use this
-- file when you prefer to run the DDL yourself (e.g. in Supabase's SQL editor).
"""


def postgres_ddl() -> str:
    dialect = postgresql.dialect()
    parts = [HEADER]
    for table in metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";\n")
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(postgres_ddl(), end="")
