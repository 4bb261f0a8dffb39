"""`tthc-bot kb import-national CATALOG [--details DIR]`: the national procedure index from the public crawl.

Reads the crawl (`catalog.jsonl`, one procedure a line, and optionally `details/<code>.json`, full records) and
writes the project's own copy under `knowledge/national/` (see `knowledge/national.py`). Idempotent: the same
crawl gives byte-identical files, and files whose content did not change are not rewritten. Run it again when a
new crawl is published, check the summary, commit the two files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cli import root
from knowledge.loader import load_knowledge
from knowledge.national import DATA_DIR, import_catalog, write_import


def import_national(
    catalog: Annotated[Path, typer.Argument(help="The crawl's catalog.jsonl (one procedure per line).")],
    details: Annotated[
        Path | None, typer.Option("--details", help="Folder of full records, <code>.json (the crawl's details/).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Where to write index.json.gz and details.json.gz.")] = DATA_DIR,
    crawled: Annotated[
        str | None, typer.Option(help="Crawl date (yyyy-mm-dd); default: the date in the crawl's README.md.")
    ] = None,
) -> None:
    """Import the national procedure catalogue: every procedure as a pointer the bot can show."""
    if not catalog.is_file():
        raise typer.BadParameter(f"{catalog}: no such file", param_hint="CATALOG")
    if details is not None and not details.is_dir():
        raise typer.BadParameter(f"{details}: no such folder", param_hint="--details")
    day = None
    if crawled:
        try:
            day = dt.date.fromisoformat(crawled)
        except ValueError as exc:
            raise typer.BadParameter(f"cannot read date {crawled!r}; use yyyy-mm-dd", param_hint="--crawled") from exc
    index_doc, details_doc, report = import_catalog(catalog, details, crawled=day)
    if report.imported == 0:
        typer.echo(f"error: {catalog}: no national procedure found; nothing written", err=True)
        raise typer.Exit(1)
    for line in report.lines():
        typer.echo(line)
    if report.crawled is None:
        typer.echo("warning: crawl date unknown (no README.md date, no record dates); give --crawled", err=True)
    curated = {p.code for p in load_knowledge(root.settings().knowledge_path).procedures if p.code}
    shared = curated & {p["code"] for p in index_doc["procedures"]}
    typer.echo(f"{len(shared)} share their code with a procedure of our knowledge base (the bot answers those)")
    written = write_import(index_doc, details_doc, out)
    typer.echo(f"wrote {', '.join(str(p) for p in written)}" if written else f"{out}: already up to date")
