"""Building the national index from the public crawl: `import_catalog()` and `write_import()`.

Used only by the `tthc-bot kb import-national` command; nothing here runs when a deployment loads the index
(`knowledge/national.py`, which re-exports this module's public names). The file format both sides share (file
names, `FORMAT`) is defined here; the keys it folds province variants by are in `knowledge/national_keys.py`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.national_keys import Level, _display_name, _name_key, _text, levels_of, province_key, province_name

DATA_DIR = Path(__file__).resolve().parent / "national"
INDEX_FILE = "index.json.gz"
DETAILS_FILE = "details.json.gz"
FORMAT = 1

# --- import from the crawl ---------------------------------------------------------------------------------


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    folded: int = 0
    province_only: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    details: int = 0
    details_skipped: Counter[str] = field(default_factory=Counter)
    crawled: dt.date | None = None
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, example: str, *, detail: bool = False) -> None:
        (self.details_skipped if detail else self.skipped)[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < 3:
            shown.append(example)

    def lines(self) -> list[str]:
        out = [
            f"read {self.read} catalogue lines (crawled {self.crawled:%d/%m/%Y})" if self.crawled else "",
            f"imported {self.imported} national procedures",
            f"folded {self.folded} province variants into their national procedure",
            f"kept {self.province_only} province-only procedures (shown only where PROVINCE matches)",
            f"full records: {self.details} attached",
        ]
        for reason, n in sorted(self.skipped.items()):
            out.append(f"skipped {n}: {reason} (e.g. {', '.join(self.examples.get(reason, []))})")
        for reason, n in sorted(self.details_skipped.items()):
            out.append(f"full records skipped {n}: {reason} (e.g. {', '.join(self.examples.get(reason, []))})")
        return [x for x in out if x]


def _iter_catalog(path: Path, report: ImportReport) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8-sig") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            report.read += 1
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                report.skip("not valid JSON", f"line {n}")
                continue
            if not isinstance(row, dict):
                report.skip("not a JSON object", f"line {n}")
                continue
            yield row


def _procedure(row: dict[str, Any]) -> dict[str, Any]:
    agencies = list(dict.fromkeys(a for a in map(_text, row.get("departments") or []) if a))
    return {
        "code": _text(row.get("code")),
        "portal_id": _text(row.get("id")),
        "name": _display_name(row.get("name") or ""),
        "fields": list(dict.fromkeys(c for c in map(_text, row.get("categories") or []) if c)),
        "agencies": agencies,
        "levels": list(levels_of(agencies)),
        "targets": list(dict.fromkeys(t for t in map(_text, row.get("formalityTargetType") or []) if t)),
        "publisher": _text(row.get("departmentPromulgate")),
    }


def _millis_date(value: object) -> dt.date | None:
    if not isinstance(value, int | float) or value <= 0:
        return None
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=7))).date()


_FLAG_LEVELS: tuple[tuple[str, Level], ...] = (("isWard", "xa"), ("isProvince", "tinh"), ("isMinistry", "trung-uong"))


def _detail(code: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The compact part of a full record, or None when it has no usable date."""
    updated = _millis_date(data.get("updatedAt")) or _millis_date(data.get("createdAt"))
    if updated is None:
        return None
    groups = []
    for case in data.get("executionCases") or []:
        items = []
        for comp in case.get("profileComponents") or []:
            name = _text(comp.get("name"))
            if len(name) < 3:
                continue
            items.append(
                {
                    "name": name[:600],
                    "original": int(comp.get("originalQty") or 0),
                    "copy": int(comp.get("copyQty") or 0),
                    "forms": [f for f in (_text(a.get("fileName")) for a in comp.get("attachments") or []) if f],
                }
            )
        if items:
            groups.append({"title": _text(case.get("name")).strip(" *:"), "items": items})
    times, fees, methods = [], [], []
    for m in data.get("executionMethods") or []:
        method = _text(m.get("submissionMethod")) or "OTHER"
        methods.append(method)
        value = m.get("processingTime")
        times.append(
            {
                "method": method,
                "value": float(value) if isinstance(value, int | float) else None,
                "unit": _text(m.get("processingTimeUnit")),
                "text": _text(m.get("description"))[:400],
            }
        )
        for f in m.get("fees") or []:
            amount = f.get("value")
            fees.append(
                {
                    "method": method,
                    "kind": _text(f.get("type")),
                    "amount": int(amount) if isinstance(amount, int | float) and amount >= 0 else None,
                    "text": _text(f.get("description"))[:400],
                }
            )
    flags = [level for key, level in _FLAG_LEVELS if data.get(key)]
    return {
        "code": code,
        "updated": updated.isoformat(),
        "documents": groups,
        "times": times,
        "fees": fees,
        "methods": list(dict.fromkeys(methods)),
        "full_online": bool(data.get("isFullProcess")),
        "levels": flags,
        "conditions": _text(data.get("requirementsAndConditions"))[:1500],
        "results": [r for r in (_text(x.get("name")) for x in data.get("resultsDetails") or []) if r],
    }


_CRAWL_DATE = re.compile(r"crawled[^0-9]{0,40}(\d{1,2})/(\d{1,2})/(\d{4})", re.IGNORECASE)


def crawl_date_of(catalog: Path) -> dt.date | None:
    """The crawl date the crawl's README.md states ('crawled around 18/7/2026'), if any."""
    readme = catalog.parent / "README.md"
    if not readme.is_file():
        return None
    m = _CRAWL_DATE.search(readme.read_text(encoding="utf-8", errors="replace"))
    return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))) if m else None


def _read_catalog(catalog: Path, report: ImportReport) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The catalogue's national procedures by code, and its province (`SPECIFIC`) rows; the rest is skipped."""
    standard: dict[str, dict[str, Any]] = {}
    specific: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in _iter_catalog(catalog, report):
        code, name, kind = _text(row.get("code")), _text(row.get("name")), _text(row.get("type"))
        if not code or not name:
            report.skip("no code or no name", code or name[:40] or "?")
            continue
        if code in seen:
            report.skip("code listed twice (first kept)", code)
            continue
        seen.add(code)
        if kind == "STANDARD_INTERNAL":
            report.skip("STANDARD_INTERNAL: between agencies, not for citizens", code)
            continue
        if not _text(row.get("id")):
            report.skip("no portal id (no page to point to)", code)
            continue
        if kind == "STANDARD":
            standard[code] = _procedure(row)
        elif kind == "SPECIFIC":
            specific.append(row)
        else:
            report.skip(f"unknown type {kind or '(none)'}", code)
    return standard, specific


def _fold_variants(
    standard: dict[str, dict[str, Any]], specific: list[dict[str, Any]], report: ImportReport
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Province variants by the code of the national procedure they fold into, and the provinces' own procedures."""
    by_key: dict[str, list[str]] = {}
    for code, proc in standard.items():
        by_key.setdefault(_name_key(proc["name"]), []).append(code)
    variants: dict[str, list[dict[str, Any]]] = {}
    own: list[dict[str, Any]] = []
    for row in specific:
        proc = _procedure(row)
        province = province_name(proc["publisher"])
        codes = by_key.get(_name_key(proc["name"], province), [])
        if codes:
            fields = set(proc["fields"])
            target = next((c for c in sorted(codes) if fields & set(standard[c]["fields"])), sorted(codes)[0])
            variants.setdefault(target, []).append(
                {
                    "code": proc["code"],
                    "portal_id": proc["portal_id"],
                    "province": province,
                    "name": proc["name"],
                    "agencies": proc["agencies"],
                }
            )
            report.folded += 1
        else:
            own.append(proc | {"province": province})
            report.province_only += 1
    return variants, own


def _sorted_procedures(
    standard: dict[str, dict[str, Any]], variants: dict[str, list[dict[str, Any]]], own: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """National procedures (with their variants) and the provinces' own, sorted by code."""
    procedures = []
    for code in sorted(standard):
        proc = standard[code]
        if code in variants:
            proc = proc | {"variants": sorted(variants[code], key=lambda v: (province_key(v["province"]), v["code"]))}
        procedures.append(proc)
    procedures += sorted(own, key=lambda p: (p["code"], p["province"]))
    procedures.sort(key=lambda p: p["code"])
    return procedures


def _read_details(
    details_dir: Path | None, known: set[str], report: ImportReport
) -> tuple[list[dict[str, Any]], dt.date | None]:
    """The usable full records of known codes, and the latest record date among them."""
    details = []
    latest: dt.date | None = None
    for path in sorted(details_dir.glob("*.json")) if details_dir else []:
        code = path.stem.strip()
        try:
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            report.skip("unreadable JSON", path.name, detail=True)
            continue
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, dict) or (isinstance(doc, dict) and doc.get("code") not in (None, "OK")):
            report.skip("not a successful portal answer", path.name, detail=True)
            continue
        if _text(data.get("code")) not in ("", code):
            report.skip("file name and record code differ", path.name, detail=True)
            continue
        if code not in known:
            report.skip("not in the imported catalogue (internal or unknown code)", code, detail=True)
            continue
        item = _detail(code, data)
        if item is None:
            report.skip("no record date", code, detail=True)
            continue
        details.append(item)
        day = dt.date.fromisoformat(item["updated"])
        latest = max(latest, day) if latest else day
    return details, latest


def import_catalog(
    catalog: Path, details_dir: Path | None = None, *, crawled: dt.date | None = None
) -> tuple[dict[str, Any], dict[str, Any], ImportReport]:
    """Build the index and details documents from the crawl. Pure: same input, same output (sorted by code)."""
    report = ImportReport()
    standard, specific = _read_catalog(catalog, report)
    variants, own = _fold_variants(standard, specific, report)
    procedures = _sorted_procedures(standard, variants, own)
    report.imported = len(standard)
    known = {p["code"] for p in procedures} | {v["code"] for vs in variants.values() for v in vs}
    details, latest = _read_details(details_dir, known, report)
    report.details = len(details)
    report.crawled = crawled or crawl_date_of(catalog) or latest
    index_doc = {
        "format": FORMAT,
        "source": "Cổng Dịch vụ công quốc gia (dichvucong.gov.vn), procedure catalogue as crawled by a public project",
        "crawled": report.crawled.isoformat() if report.crawled else None,
        "counts": {
            "national": report.imported,
            "province_variants_folded": report.folded,
            "province_only": report.province_only,
            "skipped": dict(sorted(report.skipped.items())),
        },
        "procedures": procedures,
    }
    details_doc = {"format": FORMAT, "crawled": index_doc["crawled"], "details": details}
    return index_doc, details_doc, report


def dump_lines(doc: dict[str, Any], key: str) -> str:
    """A JSON document whose `key` list has one item per line: valid JSON, diffable, stable."""
    head = {k: v for k, v in doc.items() if k != key}
    parts = [json.dumps(head, ensure_ascii=False, sort_keys=False)[:-1] + f', "{key}": [']
    items = [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in doc[key]]
    parts.append(",\n".join(items))
    parts.append("]}")
    return "\n".join(parts) + "\n"


def write_import(index_doc: dict[str, Any], details_doc: dict[str, Any], directory: Path = DATA_DIR) -> list[Path]:
    """Write both files, gzip without a timestamp, only when their content changed; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, doc, key in ((INDEX_FILE, index_doc, "procedures"), (DETAILS_FILE, details_doc, "details")):
        path = directory / name
        data = dump_lines(doc, key).encode("utf-8")
        if path.is_file() and gzip.decompress(path.read_bytes()) == data:
            continue
        path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
        written.append(path)
    return written
