"""PTB's networking backend on aiohttp instead of httpx.

PTB lets the HTTP client be swapped through `BaseRequest`. The Bot API calls are the bot's largest CPU cost
(docs/benchmarks.md, Bot throughput): httpx with its pure-Python h11 parser spent about a third of the bot's
CPU per question; aiohttp parses HTTP in C and keeps connections alive the same way. Request bodies are what
PTB's own client sends: the parameters form-encoded, files (which the bot does not send today) as multipart.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_HEADERS = {"User-Agent": BaseRequest.USER_AGENT}


class AiohttpRequest(BaseRequest):
    """One aiohttp session per instance; timeouts and pool size mean what they mean in PTB's `HTTPXRequest`."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read, self._write, self._connect, self._pool = read_timeout, write_timeout, connect_timeout, pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._pool_size))

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = bool(request_data and request_data.contains_files)
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        write = (
            (self._media_write if files else self._write) if isinstance(write_timeout, DefaultValue) else write_timeout
        )
        connect = self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool if isinstance(pool_timeout, DefaultValue) else pool_timeout
        # aiohttp has no separate write or pool timeout: waiting for a pooled connection counts towards
        # `connect`, and sending a small body is bounded by the read timeout that follows it
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=_sum(connect, pool),
            sock_connect=connect,
            sock_read=_sum(read, write) if files else read,
        )
        # form-encoded, values as PTB serialises them: what PTB's own client sends, so any Bot API server (or
        # emulator) that works with PTB works with this; files as multipart
        data: aiohttp.FormData | dict[str, str] | None = request_data.json_parameters if request_data else None
        if files and request_data is not None:
            data = aiohttp.FormData(request_data.json_parameters)
            for name, (filename, content, *mime) in request_data.multipart_data.items():
                data.add_field(name, content, filename=filename, content_type=mime[0] if mime else None)
        try:
            async with self._session.request(method, url, headers=_HEADERS, timeout=timeout, data=data) as res:
                return res.status, await res.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b
