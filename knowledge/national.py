"""The national procedure index: every procedure of the national catalogue, as pointers.

The knowledge base (`knowledge/procedures/`) explains 67 procedures in detail; citizens ask about any of the
roughly 5,700 the national public service portal lists. This module holds the second tier: for each national
procedure its code, official name, fields, handling agencies and level, who it is for and its portal page, plus,
for the few hundred whose full record was crawled, that record's documents, times and fees with its date.

Three files under `knowledge/national/`, all committed:
- `index.json.gz`: written by `import_catalog()` (the `tthc-bot kb import-national` command) from the public
  crawl; gzip (reproducible: no timestamp) of a JSON document with one procedure per line (`zdiff` shows a
  re-import as a readable diff); 340 kB instead of 2.8 MB;
- `details.json.gz`: the compact part of the crawled full records (documents, times, fees, channels, level
  flags), same layout;
- `aliases.yaml`: written by hand, the words citizens use for the procedures they ask about most (the official
  names are long and formal: "sổ đỏ", "lương hưu", "giải thể công ty"). Never written by the import.
- `curated.yaml`: written by hand, for each procedure of our knowledge base the national codes it answers for
  (several codes per procedure: the level variants "thực hiện tại cấp tỉnh/xã/trung ương", the re-published
  2025–2026 codes, the cases of one procedure). Those national entries are represented by our procedure, never
  shown twice. A procedure's own `code` field counts too, without being listed here.

Province variants (`SPECIFIC` entries, a province's own version of a national procedure) are folded into their
national procedure at import; a deployment for that province (`load_national(province=…)`) sees its own code and
page. A province's own procedures with no national counterpart are kept in the file and shown only to that
province's deployment. Inter-agency procedures (`STANDARD_INTERNAL`) are not for citizens and are left out.

Nothing here reads the crawl at run time: only the import does, from a path it is given.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from knowledge.text import clean, fold

DATA_DIR = Path(__file__).resolve().parent / "national"
INDEX_FILE = "index.json.gz"
DETAILS_FILE = "details.json.gz"
ALIASES_FILE = "aliases.yaml"
CURATED_FILE = "curated.yaml"
PORTAL_PAGE = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc={}"
FORMAT = 1

Level = Literal["xa", "tinh", "trung-uong"]
LEVEL_ORDER: tuple[Level, ...] = ("xa", "tinh", "trung-uong")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Variant(_Frozen):
    """A province's own version of a national procedure (its code, page and agencies)."""

    code: str
    portal_id: str
    province: str
    name: str
    agencies: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return PORTAL_PAGE.format(self.portal_id)


class NationalProcedure(_Frozen):
    code: str = Field(description="National code, e.g. 1.000080")
    portal_id: str = Field(description="The portal's internal id, used in the page address")
    name: str
    fields: tuple[str, ...] = ()
    agencies: tuple[str, ...] = Field(default=(), description="Handling agencies as the portal words them")
    levels: tuple[Level, ...] = Field(default=(), description="Commune, province, ministry; empty when unknown")
    targets: tuple[str, ...] = Field(default=(), description="Who it is for: citizens, enterprises, …")
    publisher: str = Field(default="", description="The ministry, or the province for a province's own procedure")
    province: str | None = Field(default=None, description="Set for a province's own procedure (no national one)")
    variants: tuple[Variant, ...] = ()
    aliases: tuple[str, ...] = Field(default=(), description="From aliases.yaml; never written to index.json")
    local: Variant | None = Field(default=None, description="The deployment province's variant, set by the loader")

    @property
    def url(self) -> str:
        return self.local.url if self.local is not None else self.portal_url

    @property
    def portal_url(self) -> str:
        return PORTAL_PAGE.format(self.portal_id)

    @property
    def for_citizens(self) -> bool:
        return any(t.startswith(("Công dân", "Người Việt Nam", "Người nước ngoài")) for t in self.targets)


class DetailItem(_Frozen):
    name: str
    original: int = 0
    copy_count: int = Field(default=0, alias="copy")
    forms: tuple[str, ...] = ()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DetailGroup(_Frozen):
    title: str = ""
    items: tuple[DetailItem, ...] = ()


class DetailTime(_Frozen):
    method: str  # DIRECT, ONLINE, POSTAL
    value: float | None = None
    unit: str = ""  # WORKING_DAY, DAY, HOUR, MONTH, OTHER
    text: str = ""


class DetailFee(_Frozen):
    method: str
    kind: str = ""  # FEE, SERVICE_FEE, PRICE_LEVEL
    amount: int | None = None
    text: str = ""


class Detail(_Frozen):
    """The parts of a crawled full record a citizen needs, with the record's own date."""

    code: str
    updated: dt.date
    documents: tuple[DetailGroup, ...] = ()
    times: tuple[DetailTime, ...] = ()
    fees: tuple[DetailFee, ...] = ()
    methods: tuple[str, ...] = ()
    full_online: bool = False
    levels: tuple[Level, ...] = ()
    conditions: str = ""
    results: tuple[str, ...] = ()

    @property
    def online(self) -> bool:
        return "ONLINE" in self.methods


@dataclass
class NationalIndex:
    """The loaded index. `procedures` are those a deployment shows (see `load_national`)."""

    procedures: list[NationalProcedure]
    details: dict[str, Detail] = field(default_factory=dict)
    crawled: dt.date | None = None
    source: str = ""
    province: str | None = None
    curated: dict[str, str] = field(default_factory=dict)  # national code -> id of our procedure covering it

    def __post_init__(self) -> None:
        self.by_code = {p.code: p for p in self.procedures}

    def get(self, code: str) -> NationalProcedure | None:
        return self.by_code.get(code)

    def detail(self, code: str) -> Detail | None:
        """The full record shown for a procedure: the deployment province's variant's, else its own."""
        proc = self.by_code.get(code)
        if proc is not None and proc.local is not None and proc.local.code in self.details:
            return self.details[proc.local.code]
        return self.details.get(code)

    def __len__(self) -> int:
        return len(self.procedures)


# --- provinces ---------------------------------------------------------------------------------------------

_PROVINCE_PREFIX = re.compile(
    r"^(?:ubnd|uy ban nhan dan|trung tam phuc vu hanh chinh cong|so [a-z ]+ -)?\s*(?:tinh|thanh pho|tp\.?)\s+",
)


def province_key(text: str | None) -> str:
    """'UBND tỉnh Bắc Ninh', 'Bắc Ninh', 'bac-ninh', 'TP Hà Nội' -> 'bac ninh' / 'ha noi'; '' for none."""
    if not text:
        return ""
    t = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(clean(text))).split())
    t = _PROVINCE_PREFIX.sub("", t)
    return re.sub(r"^(?:tinh|thanh pho|tp) ", "", t).strip()


def province_name(publisher: str) -> str:
    """The province's name as written in the publisher: 'UBND tỉnh Bắc Ninh' -> 'Bắc Ninh'."""
    m = re.search(r"(?:[Tt]ỉnh|[Tt]hành phố|TP\.?)\s+(.+)$", publisher)
    return m.group(1).strip() if m else publisher.strip()


# --- loading -----------------------------------------------------------------------------------------------


def _nfc(obj: Any) -> Any:
    if isinstance(obj, str):
        return unicodedata.normalize("NFC", obj)
    if isinstance(obj, list):
        return [_nfc(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _nfc(v) for k, v in obj.items()}
    return obj


def read_aliases(path: Path) -> dict[str, tuple[str, ...]]:
    """`code: [alias, …]` written by hand; NFC, cleaned, duplicates (by folded form) dropped."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of code -> list of aliases")
    out: dict[str, tuple[str, ...]] = {}
    for code, aliases in data.items():
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ValueError(f"{path}: {code}: expected a list of strings")
        seen: dict[str, str] = {}
        for a in aliases:
            seen.setdefault(fold(clean(a)), clean(a))
        out[str(code).strip()] = tuple(seen.values())
    return out


def read_curated(path: Path) -> dict[str, str]:
    """`procedure id: [national code, …]` -> {code: procedure id}; a code claimed by two procedures is refused."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of procedure id -> list of national codes")
    out: dict[str, str] = {}
    for pid, codes in data.items():
        if not isinstance(codes, list):
            raise ValueError(f"{path}: {pid}: expected a list of national codes")
        for code in map(str, codes):
            if out.setdefault(code.strip(), str(pid)) != str(pid):
                raise ValueError(f"{path}: {code} is listed under both {out[code.strip()]} and {pid}")
    return out


def _read_json(path: Path) -> dict[str, Any]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return doc


def load_national(directory: Path = DATA_DIR, *, province: str | None = None) -> NationalIndex:
    """The committed index as a deployment sees it.

    Without `province`: every national procedure, no province's own procedures. With it (a name in any spelling:
    'Bắc Ninh', 'bac ninh'): also that province's own procedures, and each national procedure that province has a
    variant of carries it as `local` (its code, page and agencies are the ones the card shows)."""
    raw = _read_json(directory / INDEX_FILE)
    if raw.get("format") != FORMAT:
        raise ValueError(f"{directory / INDEX_FILE}: unknown format {raw.get('format')!r}")
    aliases = read_aliases(directory / ALIASES_FILE)
    want = province_key(province)
    procs: list[NationalProcedure] = []
    for item in raw["procedures"]:
        proc = NationalProcedure.model_validate(_nfc(item))
        if proc.province is not None and province_key(proc.province) != want:
            continue
        update: dict[str, Any] = {}
        if proc.code in aliases:
            update["aliases"] = aliases[proc.code]
        if want:
            local = next((v for v in proc.variants if province_key(v.province) == want), None)
            if local is not None:
                update["local"] = local
        procs.append(proc.model_copy(update=update) if update else proc)
    details: dict[str, Detail] = {}
    details_path = directory / DETAILS_FILE
    if details_path.is_file():
        draw = _read_json(details_path)
        details = {d["code"]: Detail.model_validate(_nfc(d)) for d in draw["details"]}
    crawled = dt.date.fromisoformat(raw["crawled"]) if raw.get("crawled") else None
    curated = read_curated(directory / CURATED_FILE)
    return NationalIndex(procs, details, crawled, raw.get("source", ""), province, curated)


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


_SPACES = re.compile(r"\s+")


def _text(value: object) -> str:
    """NFC, no control characters, single spaces; '' for anything that is not text."""
    if not isinstance(value, str):
        return ""
    return _SPACES.sub(" ", clean(value, limit=100_000)).strip()


def _display_name(name: str) -> str:
    """Official names as published, except ALL-CAPS ones, which are given sentence case."""
    name = _text(name).rstrip(" ;")
    if name.isupper():
        name = re.sub(r"\bviệt nam\b", "Việt Nam", name[0] + name[1:].lower())
    return name


# Tried in this order on an agency's folded name; the first that matches gives its level.
_LEVEL_PATTERNS: list[tuple[Level, re.Pattern[str]]] = [
    (
        "trung-uong",
        re.compile(
            r"^(?:bo|cuc|tong cuc|vu|ngan hang nha nuoc viet nam|uy ban chung khoan|bao hiem xa hoi viet nam"
            r"|thu tuong|chinh phu|van phong chinh phu|ban ton giao chinh phu)\b"
        ),
    ),
    ("xa", re.compile(r"\b(?:cap xa|(?:ubnd|uy ban nhan dan|cong an) xa(?! hoi)|xa phuong|phuong xa)\b")),
    (
        "tinh",
        re.compile(
            r"\b(?:cap tinh|ubnd tinh|uy ban nhan dan tinh|tinh thanh pho|van phong dang ky dat dai"
            r"|chi nhanh van phong|thue tinh|thue co so|ngan hang nha nuoc khu vuc"
            r"|bao hiem xa hoi (?:tinh|co so|khu vuc)"
            r"|hoi dong giam dinh y khoa)\b|^(?:so|chi cuc|cong an tinh)\b"
        ),
    ),
]


def levels_of(agencies: Iterable[str]) -> tuple[Level, ...]:
    """Levels named by the agencies' own words ('Ủy ban nhân dân cấp xã', 'Sở Y tế', 'Bộ Công an')."""
    found: set[Level] = set()
    for agency in agencies:
        a = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(agency)).split())
        for level, pattern in _LEVEL_PATTERNS:
            if pattern.search(a):
                found.add(level)
                break
    return tuple(lv for lv in LEVEL_ORDER if lv in found)


def _name_key(name: str, province: str = "") -> str:
    """A name with the wording that differs between a national procedure and its province variants removed:
    'Thủ tục', numbering, '(Cấp xã)', 'trên địa bàn tỉnh X', 'của UBND tỉnh X', punctuation."""
    t = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(_text(name))).split())
    t = re.sub(r"^(?:\d+ )?(?:thu tuc )?", "", t)
    t = re.sub(r"\b(?:cap xa|cap tinh)$", "", t).strip()
    prov = province_key(province)
    if prov:
        t = re.sub(
            rf"\s*(?:tren dia ban |tai |cua |thuoc tham quyen cua (?:ubnd |uy ban nhan dan )?)?"
            rf"(?:tinh |thanh pho |tp )?{re.escape(prov)}\b",
            "",
            t,
        ).strip()
    return t


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


def import_catalog(
    catalog: Path, details_dir: Path | None = None, *, crawled: dt.date | None = None
) -> tuple[dict[str, Any], dict[str, Any], ImportReport]:
    """Build the index and details documents from the crawl. Pure: same input, same output (sorted by code)."""
    report = ImportReport()
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
    # fold province variants into their national procedure
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
    procedures = []
    for code in sorted(standard):
        proc = standard[code]
        if code in variants:
            proc = proc | {"variants": sorted(variants[code], key=lambda v: (province_key(v["province"]), v["code"]))}
        procedures.append(proc)
    procedures += sorted(own, key=lambda p: (p["code"], p["province"]))
    procedures.sort(key=lambda p: p["code"])
    report.imported = len(standard)
    # full records
    known = {p["code"] for p in procedures} | {v["code"] for vs in variants.values() for v in vs}
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
