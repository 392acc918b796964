"""`brightrun import-docs`, `import-chunks` and `docs`: the firm's own documents."""

from __future__ import annotations

from brightrun_gen.cli_common import app_for, print_json


def cmd_import_docs(args) -> int:
    app = app_for(args)
    results = app.documents.import_files(args.paths, category=args.category)
    for result in results:
        print(result.line())
    print(app.documents.summary(results))
    return 1 if not results or any(r.outcome == "failed" for r in results) else 0


def cmd_import_chunks(args) -> int:
    app = app_for(args)
    results = app.documents.import_chunks(database_url=args.from_database, csv=args.csv, schema=args.schema)
    for result in results:
        print(result.line())
    print(app.documents.summary(results))
    return 1 if any(r.outcome == "failed" for r in results) else 0


def cmd_docs(args) -> int:
    documents = app_for(args).documents.list()
    if args.json:
        print_json([{"id": d.id, "title": d.title, "type": d.doc_type, "category": d.category,
                     "source": d.source_path, "chunks": d.chunks, "tokens": d.tokens, "conversations": d.conversations,
                     "updated_at": d.updated_at} for d in documents])
        return 0
    for d in documents:
        print(f"{d.id:4d}  {d.doc_type:8s} {(d.category or '-'):18.18s} {d.chunks:4d} chunks  "
              f"{d.conversations:4d} uses  {d.title}")
    print(f"{len(documents)} document(s), {sum(d.chunks for d in documents)} chunks")
    return 0


def register(sub, common) -> None:
    p = sub.add_parser("import-docs", parents=[common],
                       help="import the firm's documents (Markdown, text, HTML, PDF, DOCX; files or folders)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--category", metavar="NAME", help="the document category to file them under")
    p.set_defaults(func=cmd_import_docs)
    p = sub.add_parser("import-chunks", parents=[common],
                       help="copy the upstream stage's documents and chunks (read-only) from its database or a CSV")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--from-database", metavar="URL",
                        help="the upstream database (default: the setting BRIGHTRUN_UPSTREAM_DATABASE_URL)")
    source.add_argument("--csv", metavar="FILE", help="a CSV of chunks with the upstream's column names")
    p.add_argument("--schema", help="schema of the upstream tables (default: BRIGHTRUN_UPSTREAM_SCHEMA or the search path)")
    p.set_defaults(func=cmd_import_chunks)
    p = sub.add_parser("docs", parents=[common], help="list documents with type, category, chunks and uses")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_docs)
