"""Structured logs without personal data.

Log lines are JSON objects. Our own code never logs message text, names, phone numbers or receipt codes;
as a second line of defence a filter masks anything that looks like a phone number, a receipt code or a
bot token in every record, including those of libraries. Chat ids are logged only as `chat_ref()` hashes.
"""

from __future__ import annotations

import json
import logging
import re

from knowledge.codes import CODE_RE

_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.]?\d){9}(?!\d)")
_TOKEN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")


def scrub(text: str) -> str:
    text = _TOKEN.sub("<token>", text)
    text = CODE_RE.sub("<mã hồ sơ>", text)
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
    for noisy in ("httpx", "httpcore", "aiohttp", "apscheduler", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # a dispatcher round longer than DISPATCH_INTERVAL makes APScheduler skip the next one: expected, not a problem
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
