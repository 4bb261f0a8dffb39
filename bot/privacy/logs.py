"""Structured logs without personal data.

Log lines are JSON objects. Our own code never logs message text, names, phone numbers or receipt codes;
as a second line of defence a filter masks anything that looks like a phone number, an e-mail address, a
receipt code or a bot token in every record, including those of libraries. Chat ids are logged only as
`chat_ref()` hashes.

Libraries that log what passes through them (message texts, SQL parameters, request URLs with the bot token)
are kept at a level where they do not, whatever LOG_LEVEL says (`QUIET`): LOG_LEVEL=DEBUG shows our own
debugging lines, not citizens' names.
"""

from __future__ import annotations

import json
import logging
import re

from bot.privacy.masking import mask_email_addresses
from knowledge.codes import CODE_RE

_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.]?\d){9}(?!\d)")
_TOKEN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")


# The lowest level at which each library may log, and why no lower: at lower levels it logs payloads.
QUIET: dict[str, tuple[int, str]] = {
    "telegram": (
        logging.INFO,
        "PTB logs every Bot API call with its parameters and answer at DEBUG (message texts, the citizen's name "
        "and the typed digits in updates), and each webhook update's JSON",
    ),
    "sqlalchemy": (
        logging.WARNING,
        "the engine logs each statement with its bound parameters at INFO (names, feedback texts, phone hashes) "
        "and the rows it reads at DEBUG",
    ),
    "aiosqlite": (logging.WARNING, "logs each call at DEBUG with its arguments: the SQL statement and parameters"),
    "psycopg": (logging.INFO, "logs connection attempts at DEBUG with host, port, user and database"),
    "httpx": (logging.WARNING, "logs each request at INFO with its URL, which carries the bot token"),
    "httpcore": (logging.WARNING, "logs each request's and response's headers and body events at DEBUG"),
    "aiohttp": (logging.WARNING, "client and access logs: URLs (with the bot token) and addresses"),
    "hpack": (logging.INFO, "logs each HTTP/2 header it encodes or decodes at DEBUG"),
    "apscheduler": (logging.WARNING, "logs every job run at INFO: noise, several lines a second"),
    # a dispatcher round longer than DISPATCH_INTERVAL makes APScheduler skip the next one: expected, not a problem
    "apscheduler.scheduler": (logging.ERROR, "warns about skipped runs, which are expected"),
}


def scrub(text: str) -> str:
    """Bot tokens, receipt codes, e-mail addresses and phone numbers masked; other text as it was."""
    text = _TOKEN.sub("<token>", text)
    text = CODE_RE.sub("<mã hồ sơ>", text)
    text = mask_email_addresses(text)
    return _PHONE.sub("<số điện thoại>", text)


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = ()
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ScrubFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, (lowest, _why) in QUIET.items():
        logging.getLogger(name).setLevel(max(lowest, root.level))
