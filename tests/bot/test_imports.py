"""Importing cases from CSV and XLSX files, on SQLite and PostgreSQL, and the `tthc-bot cases` commands."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import func, select

from bot.cases.rules import STATUSES, NewCase, create_case, get_case, history
from bot.notify import subscriptions
from bot.staff.importing import ImportRow, import_file, new_case_rows, read_file, status_path
from bot.staff.status import set_status
from bot.storage.db import session_scope
from bot.storage.models import Case, CaseEvent, Outbox
from tests.helpers import cli

UTC = dt.UTC
HEADER = [
    "code",
    "procedure_id",
    "agency",
    "office",
    "applicant_name",
    "phone",
    "birth_year",
    "received_at",
    "appointment_date",
    "channel",
    "return_method",
    "fee",
    "status",
    "note",
    "new_appointment_date",
    "missing_documents",
]
PROC = "cu-tru.dang-ky-tam-tru"
NAME = "Nguyễn Thị Ánh Tuyết"
AGENCY = "Công an xã Phú Thượng"
OFFICE = "Bộ phận Một cửa xã Phú Thượng, quận Tây Hồ"


def code(n: int) -> str:
    return f"000.00.15.H57-261120-{n:04d}"


def row(n: int, **kw: str) -> dict[str, str]:
    base = {
        "code": code(n),
        "procedure_id": PROC,
        "agency": AGENCY,
        "office": OFFICE,
        "applicant_name": NAME,
        "phone": f"0912 345 {n:03d}",
        "birth_year": "1985",
        "received_at": "20/11/2026 08:30",
        "appointment_date": "25/11/2026",
        "channel": "truc-tiep",
        "return_method": "truc-tiep",
        "fee": "15.000",
        "status": "",
        "note": "",
        "new_appointment_date": "",
        "missing_documents": "",
    }
    return base | kw


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """Text as Windows writes it in code page 1258: precomposed letters where the code page has them,
    otherwise the base letter (â, ơ, ư, … included) followed by a combining tone mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        nfd = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONES))
        out += (base + "".join(c for c in nfd if c in _TONES)).encode("cp1258")
    return bytes(out)


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    header: list[str] | None = None,
) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header or HEADER)
    for r in rows:
        w.writerow([r.get(h, "") for h in (header or HEADER)])
    text = buf.getvalue()
    path.write_bytes(to_cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    return path


async def run(engine, path: Path, settings, kb, **kw):  # type: ignore[no-untyped-def]
    return await import_file(engine, path, kb=kb, settings=settings, **kw)


async def counts(engine) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        return tuple(
            [
                (await s.exec(select(func.count()).select_from(t))).one()  # type: ignore[return-value]
                for t in (Case, CaseEvent, Outbox)
            ]
        )


# --- encodings and formats ------------------------------------------------------------------


@pytest.mark.parametrize("encoding,delimiter", [("utf-8", ","), ("utf-8-sig", ";"), ("cp1258", ","), ("cp1258", ";")])
async def test_encodings_round_trip_to_nfc(engine, settings, kb, tmp_path, encoding, delimiter) -> None:  # type: ignore[no-untyped-def]
    note = "Thiếu giấy xác nhận cư trú; bổ sung trước ngày 28/11"
    path = write_csv(
        tmp_path / "hs.csv",
        [
            row(1),
            row(2, status="need_supplement", note=note, missing_documents="Tờ khai CT01; Giấy tờ chứng minh chỗ ở"),
        ],
        encoding=encoding,
        delimiter=delimiter,
    )
    data = path.read_bytes()
    if encoding == "cp1258":  # decomposed tones, as old systems write them, and not UTF-8
        assert b"\xde" in data or b"\xd2" in data or b"\xf2" in data
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    report = await run(engine, path, settings, kb)
    assert report.written and not report.errors, report.errors
    assert report.encoding == ("cp1258" if encoding == "cp1258" else "utf-8")
    assert (report.created, report.status_changes) == (2, 1)
    async with session_scope(engine) as s:
        one, two = await get_case(s, code(1)), await get_case(s, code(2))
    assert one.applicant_name == NAME and one.agency == AGENCY and one.office == OFFICE
    assert two.status_note == note and two.missing_documents == ["Tờ khai CT01", "Giấy tờ chứng minh chỗ ở"]
    for text in (one.applicant_name, one.agency, one.office, two.status_note, *two.missing_documents):
        assert unicodedata.is_normalized("NFC", text), text


async def test_xlsx_with_vietnamese_headers_and_typed_cells(engine, settings, kb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "STT",
            "Mã hồ sơ",
            "Mã thủ tục",
            "Cơ quan",
            "Họ tên",
            "Số điện thoại",
            "Năm sinh",
            "Ngày nhận",
            "Ngày hẹn trả",
            "Lệ phí",
            "Trạng thái",
        ]
    )
    ws.append(
        [
            1,
            code(1),
            PROC,
            AGENCY,
            NAME,
            912345001,
            1985.0,
            dt.datetime(2026, 11, 20, 8, 30),
            dt.datetime(2026, 11, 25),
            15000,
            "Đang giải quyết",
        ]
    )
    ws.append(
        [
            2,
            code(2),
            PROC,
            AGENCY,
            "Lê Văn Cường",
            "0912345002",
            None,
            "2026-11-20T09:00",
            "25/11/2026",
            None,
            "ready_for_pickup",
        ]
    )
    wb.save(tmp_path / "hs.xlsx")
    report = await run(engine, tmp_path / "hs.xlsx", settings, kb)
    assert report.written and not report.errors, report.errors
    assert (report.created, report.status_changes, report.encoding) == (2, 2, "xlsx")
    async with session_scope(engine) as s:
        one, two = await get_case(s, code(1)), await get_case(s, code(2))
    assert one.phone_last4 == "5001" and one.birth_year == 1985 and one.fee == 15000 and one.status == "in_progress"
    assert one.received_at == dt.datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 08:30 in Hà Nội
    assert one.appointment_date == dt.date(2026, 11, 25)
    assert two.status == "ready_for_pickup" and two.received_at == dt.datetime(2026, 11, 20, 2, tzinfo=UTC)
    # the same phone typed as text or as a number (Excel drops the leading 0) is one phone
    async with session_scope(engine) as s:
        new = await create_case(
            session=s,
            secret=settings.secret_key.get_secret_value(),
            new=NewCase(
                code=code(9),
                procedure_id=PROC,
                agency=AGENCY,
                applicant_name=NAME,
                phone="0912345001",
                received_at=one.received_at,
                appointment_date=one.appointment_date,
            ),
        )
        assert new.phone_hmac == one.phone_hmac

    ws.append(
        [
            3,
            code(3),
            "cu-tru.dang-ky-tam-truu",
            AGENCY,
            NAME,
            "0912345003",
            None,
            "20/11/2026",
            "31/11/2026",
            None,
            None,
        ]
    )
    wb.save(tmp_path / "bad.xlsx")
    report = await run(engine, tmp_path / "bad.xlsx", settings, kb)
    assert not report.written
    assert [str(e).split(": ")[0] for e in report.errors] == [
        f"{tmp_path / 'bad.xlsx'}:4:Mã thủ tục",
        f"{tmp_path / 'bad.xlsx'}:4:Ngày hẹn trả",
    ]
    assert "did you mean 'cu-tru.dang-ky-tam-tru'" in report.errors[0].message


async def test_dates_in_both_formats_are_local_time(engine, settings, kb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [
        row(1, received_at="20/11/2026 08:30", appointment_date="25/11/2026"),
        row(2, received_at="2026-11-20T08:30", appointment_date="2026-11-25"),
        row(3, received_at="2026-11-20 08:30:00+07:00", appointment_date="25-11-2026"),
        row(4, received_at="2026-11-20T01:30:00Z", appointment_date="25.11.2026"),
        row(5, received_at="20/11/2026", appointment_date="2026-11-25"),
    ]
    report = await run(engine, write_csv(tmp_path / "d.csv", rows), settings, kb)
    assert report.written and report.created == 5, report.errors
    async with session_scope(engine) as s:
        cases = [await get_case(s, code(n)) for n in range(1, 6)]
    for c in cases[:4]:
        assert c.received_at == dt.datetime(2026, 11, 20, 1, 30, tzinfo=UTC), c.code
        assert c.appointment_date == dt.date(2026, 11, 25)
    assert cases[4].received_at == dt.datetime(2026, 11, 19, 17, tzinfo=UTC)  # midnight in Hà Nội


# --- idempotency ----------------------------------------------------------------------------


def _mixed_rows() -> list[dict[str, str]]:
    return [
        row(1),
        row(2, status="in_progress"),
        row(3, status="returned", note="Đã trả tại quầy"),
        row(4, status="overdue", note="Cần xác minh thêm", new_appointment_date="02/12/2026"),
        row(5, status="need_supplement", missing_documents="Giấy xác nhận chỗ ở hợp pháp"),
        row(6, status="rejected", note="Không thuộc thẩm quyền"),
        row(7, status="Đã rút hồ sơ", fee="", birth_year="", office=""),
    ]


async def _snapshot(engine) -> list[tuple]:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        cases = [tuple(c.model_dump().items()) for c in (await s.exec(select(Case).order_by(Case.id))).all()]
        events = [tuple(e.model_dump().items()) for e in (await s.exec(select(CaseEvent).order_by(CaseEvent.id))).all()]
        outbox = [(o.id, o.dedupe_key, o.status) for o in (await s.exec(select(Outbox).order_by(Outbox.id))).all()]
    return [*cases, *events, *outbox]


async def test_same_file_twice_changes_nothing(engine, settings, kb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "hs.csv", _mixed_rows())
    first = await run(engine, path, settings, kb)
    assert first.written and (first.created, first.status_changes) == (7, 7), first.errors
    async with session_scope(engine) as s:  # followers of open cases, so any status change would queue messages
        for n in (1, 2, 4, 5):
            await subscriptions.follow(s, chat_id=100 + n, case=await get_case(s, code(n)), kb=kb, settings=settings)
    before = await _snapshot(engine)
    again = await run(engine, path, settings, kb)
    assert again.written and not again.errors
    assert (again.created, again.updated, again.unchanged, again.status_changes, again.notifications) == (0, 0, 7, 0, 0)
    assert await _snapshot(engine) == before
    async with session_scope(engine) as s:
        returned = await get_case(s, code(3))
        assert [e.status for e in await history(s, returned)] == ["received", "ready_for_pickup", "returned"]
        assert returned.closed_at is not None and returned.status_note == "Đã trả tại quầy"


async def test_new_cases_match_create_case_followed_by_set_status(engine, settings, kb) -> None:  # type: ignore[no-untyped-def]
    """The bulk path for new cases writes what create_case + set_status along the shortest path would."""
    secret = settings.secret_key.get_secret_value()
    now = dt.datetime(2026, 11, 26, 3, tzinfo=UTC)
    received = dt.datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    extra = {
        "overdue": {"note": "Cần xác minh", "new_appointment_date": dt.date(2026, 12, 2)},
        "rejected": {"note": "Không thuộc thẩm quyền"},
        "need_supplement": {"missing_documents": ["Tờ khai CT01"]},
    }
    columns = set(Case.__table__.columns.keys()) - {"id"}  # type: ignore[attr-defined]
    for n, status in enumerate(STATUSES, 1):
        values = {
            "code": f"0000015H5726112{n:05d}",
            "procedure_id": PROC,
            "agency": AGENCY,
            "applicant_name": NAME,
            "phone": "0912345678",
            "received_at": received,
            "appointment_date": dt.date(2026, 11, 25),
            "status": status,
            **extra.get(status, {}),
        }
        case_row, event_rows = new_case_rows(ImportRow(2, values["code"], values, {}), secret, now)
        assert set(case_row) == columns  # a column added to Case must be added to the import too
        async with session_scope(engine) as s:
            ref = await create_case(
                session=s,
                secret=secret,
                new=NewCase(
                    code=code(n),
                    procedure_id=PROC,
                    agency=AGENCY,
                    applicant_name=NAME,
                    phone="0912345678",
                    received_at=received,
                    appointment_date=dt.date(2026, 11, 25),
                ),
            )
            for step in status_path("received", status):
                last = step == status
                await set_status(
                    s,
                    case=ref,
                    status=step,
                    kb=kb,
                    settings=settings,
                    at=now,
                    note=values.get("note") if last else None,
                    new_date=values.get("new_appointment_date") if last else None,
                    missing=values.get("missing_documents") if last else None,
                )
            ref_events = await history(s, ref)
        skip = {"id", "code", "display_code", "created_at", "updated_at"}
        assert {k: v for k, v in case_row.items() if k not in skip} == {
            k: v for k, v in ref.model_dump().items() if k not in skip
        }, status
        assert [(e["status"], e["note"], e["at"]) for e in event_rows] == [
            (e.status, e.note, e.at) for e in ref_events
        ], status


# --- bad rows -------------------------------------------------------------------------------


async def _returned_case(engine, settings, kb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = await run(engine, write_csv(tmp_path / "seed.csv", [row(50, status="returned")]), settings, kb)
    assert report.written


BAD = {
    "unknown procedure": ({"procedure_id": "ho-tich.khai-sinh-xyz"}, "procedure_id", "unknown procedure id"),
    "malformed code": ({"code": "000.00.15-261120"}, "code", "is not a receipt code"),
    "bad date": ({"appointment_date": "30/02/2026"}, "appointment_date", "is not a real date"),
    "unreadable date": ({"received_at": "hôm qua"}, "received_at", "cannot read 'hôm qua' as a date"),
    "duplicate code": (
        {"code": "0000015H572611200001"},
        "code",
        "duplicate code 000.00.15.H57-261120-0001, already on row 2",
    ),
    "invalid transition": (
        {"code": code(50), "status": "in_progress"},
        "status",
        "a case in status returned cannot move to in_progress",
    ),
    "overdue without date": ({"status": "overdue"}, "new_appointment_date", "needs the new appointment date"),
    "rejected without note": ({"status": "rejected"}, "note", "status rejected needs a note giving the reason"),
    "need_supplement without documents": (
        {"status": "need_supplement"},
        "missing_documents",
        "status need_supplement needs the missing documents (or a note)",
    ),
}


@pytest.mark.parametrize("kind", list(BAD))
async def test_a_bad_row_writes_nothing_and_names_the_place(engine, settings, kb, tmp_path, kind) -> None:  # type: ignore[no-untyped-def]
    await _returned_case(engine, settings, kb, tmp_path)
    before = await _snapshot(engine)
    change, column, message = BAD[kind]
    path = write_csv(tmp_path / "hs.csv", [row(1), row(2), row(3, **change), row(4)])
    report = await run(engine, path, settings, kb)
    assert not report.written
    assert len(report.errors) == 1, report.errors
    assert str(report.errors[0]).startswith(f"{path}:4:{column}: "), report.errors
    assert message in report.errors[0].message
    assert await _snapshot(engine) == before


async def test_every_error_is_listed_in_file_order(engine, settings, kb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await _returned_case(engine, settings, kb, tmp_path)
    rows = [row(1)] + [row(10 + i, **change) for i, (change, _, _) in enumerate(BAD.values())]
    path = write_csv(tmp_path / "hs.csv", rows, delimiter=";")
    counts_before = await counts(engine)
    report = await run(engine, path, settings, kb)
    assert not report.written and await counts(engine) == counts_before
    assert [(e.row, e.column) for e in report.errors] == [(3 + i, col) for i, (_, col, _) in enumerate(BAD.values())]


async def test_skip_bad_rows_writes_the_good_ones(engine, settings, kb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await _returned_case(engine, settings, kb, tmp_path)
    rows = [
        row(1),
        row(2, procedure_id="khong-co"),
        row(3, status="in_progress"),
        row(50, status="in_progress"),
        row(4, phone="12"),
    ]
    report = await run(engine, write_csv(tmp_path / "hs.csv", rows), settings, kb, skip_bad_rows=True)
    assert report.written
    assert (report.created, report.skipped, report.status_changes) == (2, 3, 1)
    assert [(e.row, e.column) for e in report.errors] == [(3, "procedure_id"), (5, "status"), (6, "phone")]
    async with session_scope(engine) as s:
        assert await get_case(s, code(1)) and await get_case(s, code(3))
        assert await get_case(s, code(2)) is None and await get_case(s, code(4)) is None
        assert (await get_case(s, code(50))).status == "returned"


def _read(tmp_path: Path, data: bytes, settings, kb, name: str = "f.csv"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data)
    return read_file(path, kb=kb, settings=settings, name=name)


def _line(values: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(values)
    return buf.getvalue().encode("utf-8")


def test_file_level_problems_are_one_clear_line(tmp_path, settings, kb) -> None:  # type: ignore[no-untyped-def]
    header = _line(HEADER)
    good = _line(list(row(1).values()))
    mixed = (
        header
        + b"\r\n"
        + good
        + b"\r\n"
        + _line(list(row(2).values())).replace("Tuyết".encode(), "Tuy\xea\xect".encode("latin-1"))
        + b"\r\n"
    )
    parsed = _read(tmp_path, mixed, settings, kb)
    assert parsed.fatal and [str(e).split(": ")[0] for e in parsed.errors] == ["f.csv:3:applicant_name"]
    assert "not valid UTF-8" in parsed.errors[0].message

    legacy = (
        to_cp1258(",".join(HEADER) + "\r\n")
        + to_cp1258(",".join(row(1, office="").values())).replace(b"0912", b"\x81912")
        + b"\r\n"
    )  # 0x81 is not a character in Windows-1258
    parsed = _read(tmp_path, legacy, settings, kb)
    assert parsed.fatal and [str(e) for e in parsed.errors] == [
        "f.csv:2:-: the file is neither UTF-8 nor Windows-1258 (byte 0x81); save it as 'CSV UTF-8'"
    ]

    parsed = _read(tmp_path, ",".join(HEADER).encode("utf-16"), settings, kb)
    assert parsed.fatal and "UTF-16" in str(parsed.errors[0])

    parsed = _read(tmp_path, b"", settings, kb)
    assert parsed.fatal and "empty" in str(parsed.errors[0])

    parsed = _read(tmp_path, b"ma_ho_so,thu_tuc,trang_thaii\r\n", settings, kb)
    problems = [str(e) for e in parsed.errors]
    assert "f.csv:1:trang_thaii: unknown column; did you mean 'status'?" in problems
    assert any(p.startswith("f.csv:1:agency: missing required column") for p in problems)

    parsed = _read(
        tmp_path, header + b"\r\n" + good + b",extra\r\n" + good.replace(b"0001", b"0002") + b",,\r\n", settings, kb
    )
    assert [str(e).split(": ")[0] for e in parsed.errors] == ["f.csv:2:-"] and len(parsed.rows) == 1

    unclosed = (
        header
        + b"\r\n"
        + good
        + b"\r\n"
        + good.replace(b"0001", b"0002").replace(b",C", b',"C', 1)
        + b"\r\n"
        + good.replace(b"0001", b"0003")
        + b"\r\n"
    )
    parsed = _read(tmp_path, unclosed, settings, kb)
    assert parsed.fatal and str(parsed.errors[0]).startswith("f.csv:3:-: malformed CSV")
    assert "quote" in str(parsed.errors[0])


def test_a_duplicate_code_is_an_error_even_after_a_bad_row(tmp_path, settings, kb) -> None:  # type: ignore[no-untyped-def]
    rows = [row(1, received_at="hôm qua"), row(2), row(1), row(3, code="0000015h57 261120 0002")]
    parsed = read_file(write_csv(tmp_path / "d.csv", rows), kb=kb, settings=settings, name="d.csv")
    assert [str(e) for e in parsed.errors][1:] == [
        "d.csv:4:code: duplicate code 000.00.15.H57-261120-0001, already on row 2",
        "d.csv:5:code: duplicate code 000.00.15.H57-261120-0002, already on row 3",
    ]
    assert [r.line for r in parsed.rows] == [3]


def test_cells_are_checked(tmp_path, settings, kb) -> None:  # type: ignore[no-untyped-def]
    bad = [
        row(1, phone="12345"),
        row(2, fee="15,5"),
        row(3, channel="fax"),
        row(4, birth_year="85"),
        row(5, appointment_date="19/11/2026"),
        row(6, status="done"),
        row(7, agency="A\x07B"),
        row(8, applicant_name=""),
        row(9, received_at="20/11/1999"),
    ]
    parsed = read_file(write_csv(tmp_path / "c.csv", bad), kb=kb, settings=settings, name="c.csv")
    assert [str(e).split(": ")[0] for e in parsed.errors] == [
        "c.csv:2:phone",
        "c.csv:3:fee",
        "c.csv:4:channel",
        "c.csv:5:birth_year",
        "c.csv:6:appointment_date",
        "c.csv:7:status",
        "c.csv:8:agency",
        "c.csv:9:applicant_name",
        "c.csv:10:received_at",
    ]
    ok = read_file(
        write_csv(
            tmp_path / "ok.csv",
            [row(1, phone="+84 912 345 001", fee="50.000 đ", channel="Trực tuyến", status="Đang giải quyết")],
        ),
        kb=kb,
        settings=settings,
    )
    values = ok.rows[0].values
    assert (values["phone"], values["fee"], values["channel"], values["status"]) == (
        "0912345001",
        50000,
        "truc-tuyen",
        "in_progress",
    )


async def test_status_requirements_of_existing_cases_name_the_column(engine, settings, kb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An existing case's change is refused by the rules table as it is written; the row then writes nothing of its
    own, not even its other changed fields."""
    await run(engine, write_csv(tmp_path / "a.csv", [row(1, status="in_progress"), row(2), row(3)]), settings, kb)
    before = await _snapshot(engine)
    header = ["Mã hồ sơ", *HEADER[1:12], "Trạng thái", "Ghi chú", "Ngày hẹn mới", "Cần bổ sung"]
    bad = [
        row(1, status="rejected", agency="UBND xã"),
        row(2, status="overdue"),
        row(3, status="need_supplement", fee="20.000"),
    ]
    path = write_csv(tmp_path / "b.csv", [dict(zip(header, r.values(), strict=True)) for r in bad], header=header)
    report = await run(engine, path, settings, kb, skip_bad_rows=True)
    assert report.written and (report.updated, report.skipped) == (0, 3)
    assert [str(e) for e in report.errors] == [
        f"{path}:2:Ghi chú: status rejected needs a note giving the reason",
        f"{path}:3:Ngày hẹn mới: status overdue needs the new appointment date",
        f"{path}:4:Cần bổ sung: status need_supplement needs the missing documents (or a note)",
    ]
    assert await _snapshot(engine) == before


# --- updates and notifications --------------------------------------------------------------


async def test_updates_change_only_what_the_file_says(engine, settings, kb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await run(engine, write_csv(tmp_path / "a.csv", [row(1), row(2)]), settings, kb)
    changed = [
        row(1, agency="UBND xã Phú Thượng", appointment_date="27/11/2026", phone="+84 912 345 001"),
        row(2, office="", birth_year="", fee="", phone="0987 654 321"),
    ]
    report = await run(engine, write_csv(tmp_path / "b.csv", changed), settings, kb)
    assert (report.updated, report.unchanged, report.status_changes) == (2, 0, 0), report.errors
    async with session_scope(engine) as s:
        one, two = await get_case(s, code(1)), await get_case(s, code(2))
    assert one.agency == "UBND xã Phú Thượng" and one.appointment_date == dt.date(2026, 11, 27)
    assert one.phone_last4 == "5001"
    assert two.office == OFFICE and two.birth_year == 1985 and two.fee == 15000  # empty cells keep the value
    assert two.phone_last4 == "4321"
    again = await run(engine, write_csv(tmp_path / "b.csv", changed), settings, kb)
    assert (again.updated, again.unchanged) == (0, 2)


async def test_a_status_change_in_an_import_notifies_followers(engine, settings, kb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await run(
        engine,
        write_csv(
            tmp_path / "a.csv",
            [
                row(1, status="in_progress"),
                row(2, status="overdue", new_appointment_date="02/12/2026", note="Cần xác minh"),
            ],
        ),
        settings,
        kb,
    )
    async with session_scope(engine) as s:
        for n in (1, 2):
            assert await subscriptions.follow(
                s, chat_id=4200 + n, case=await get_case(s, code(n)), kb=kb, settings=settings
            )
    update = [
        row(1, status="ready_for_pickup"),
        row(2, status="overdue", new_appointment_date="09/12/2026", note="Chờ kết quả xác minh"),
    ]
    report = await run(engine, write_csv(tmp_path / "b.csv", update), settings, kb)
    assert (report.updated, report.status_changes) == (2, 2) and report.notifications >= 2, report
    async with session_scope(engine) as s:
        rows = (await s.exec(select(Outbox).where(Outbox.kind.like("status:%")))).all()  # type: ignore[attr-defined]
        one = await get_case(s, code(1))
        events = await history(s, one)
    assert sorted((r.chat_id, r.kind) for r in rows) == [(4201, "status:ready_for_pickup"), (4202, "status:overdue")]
    assert "09/12/2026" in next(r for r in rows if r.chat_id == 4202).payload["text"]
    assert events[-1].status == "ready_for_pickup" and events[-1].source == "import"
    again = await run(engine, write_csv(tmp_path / "b.csv", update), settings, kb)
    assert (again.status_changes, again.notifications) == (0, 0)


# --- the command line -----------------------------------------------------------------------


def test_cli_import_set_status_and_show(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"DATA_DIR": str(tmp_path / "var")}
    assert cli("db", "upgrade", env=env).returncode == 0
    path = write_csv(tmp_path / "hs.csv", [row(1), row(2, status="in_progress")], encoding="cp1258", delimiter=";")

    first = cli("cases", "import", str(path), env=env)
    assert first.returncode == 0, first.stderr
    assert "2 created, 0 updated, 0 unchanged, 1 status change(s)" in first.stdout
    again = cli("cases", "import", str(path), env=env)
    assert again.returncode == 0 and "0 created, 0 updated, 2 unchanged, 0 status change(s)" in again.stdout

    bad = write_csv(tmp_path / "bad.csv", [row(3), row(4, procedure_id="khong-co"), row(5, received_at="31/13/2026")])
    out = cli("cases", "import", str(bad), env=env)
    assert out.returncode == 1
    assert out.stdout.splitlines()[0].startswith(f"{bad}:3:procedure_id: unknown procedure id 'khong-co'")
    assert out.stdout.splitlines()[1].startswith(f"{bad}:4:received_at: ")
    assert "nothing written" in out.stderr
    skip = cli("cases", "import", str(bad), "--skip-bad-rows", env=env)
    assert skip.returncode == 0 and "1 created" in skip.stdout and "2 skipped" in skip.stdout

    moved = cli(
        "cases",
        "set-status",
        code(2).replace(".", " "),
        "need_supplement",
        "--missing",
        "Tờ khai CT01; Giấy xác nhận chỗ ở",
        env=env,
    )
    assert moved.returncode == 0, moved.stderr
    assert "000.00.15.H57-261120-0002: in_progress -> need_supplement" in moved.stdout
    refused = cli("cases", "set-status", code(2), "returned", env=env)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "cannot move to returned" in refused.stderr
    late = cli("cases", "set-status", code(1), "overdue", env=env)
    assert late.returncode == 2
    assert late.stderr.strip() == "error: --new-date: status overdue needs the new appointment date"
    reason = cli("cases", "set-status", code(1), "rejected", "--note", "  ", env=env)
    assert reason.returncode == 2 and reason.stderr.startswith("error: --note: status rejected needs a note")
    documents = cli("cases", "set-status", code(1), "need_supplement", env=env)
    assert documents.returncode == 2
    assert documents.stderr.strip() == (
        "error: --missing: status need_supplement needs the missing documents (or --note)"
    )
    bad_status = cli("cases", "set-status", code(1), "done", env=env)
    assert bad_status.returncode == 2 and "STATUS: 'done' is not a status" in bad_status.stderr
    unknown = cli("cases", "set-status", "000.00.15.H57-261120-0999", "in_progress", env=env)
    assert unknown.returncode == 1 and "no case with code" in unknown.stderr

    shown = cli("cases", "show", code(2), env=env)
    assert shown.returncode == 0, shown.stderr
    assert NAME in shown.stdout and "******5002" in shown.stdout and "0912" not in shown.stdout
    assert "Tờ khai CT01; Giấy xác nhận chỗ ở" in shown.stdout and "need_supplement" in shown.stdout
    missing = cli("cases", "import", str(tmp_path / "nope.csv"), env=env)
    assert missing.returncode == 2 and missing.stderr.strip() == f"error: {tmp_path / 'nope.csv'}: no such file"
