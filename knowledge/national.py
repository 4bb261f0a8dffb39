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
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from knowledge.national_import import (
    DATA_DIR,
    DETAILS_FILE,
    FORMAT,
    INDEX_FILE,
)
from knowledge.national_import import ImportReport as ImportReport  # re-exported: the import's public names
from knowledge.national_import import crawl_date_of as crawl_date_of
from knowledge.national_import import dump_lines as dump_lines
from knowledge.national_import import import_catalog as import_catalog
from knowledge.national_import import write_import as write_import
from knowledge.national_keys import LEVEL_ORDER as LEVEL_ORDER
from knowledge.national_keys import Level, province_key
from knowledge.national_keys import levels_of as levels_of
from knowledge.national_keys import province_name as province_name
from knowledge.text import clean, fold

ALIASES_FILE = "aliases.yaml"
CURATED_FILE = "curated.yaml"
PORTAL_PAGE = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc={}"


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
