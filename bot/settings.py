"""One settings object for the whole application, read from the environment and `.env`.

Loaded lazily through `get_settings()` so importing a module never touches the environment.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.loader import province_slugs

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "123456"}
DEV_SECRET = "dev-only-secret-key-change-me-in-production"


class SettingsError(ValueError):
    """A setting is wrong; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    database_url: str | None = Field(default=None, description="Unset: SQLite under data_dir")
    data_dir: Path = Path("var")
    knowledge_dir: Path | None = None
    holidays_file: Path | None = None
    province: str | None = Field(
        default=None,
        description="The deployment's province (a slug of knowledge/provinces/provinces.yaml, e.g. ha-noi): "
        "its overlays of the procedures apply; unset: the national entries",
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    bot_username: str = "tthc_bot"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None
    bot_workers: int = Field(
        default=1,
        ge=1,
        le=32,
        description="Processes answering updates (`run --workers`); "
        "more than one uses more cores, see docs/benchmarks.md",
    )
    update_concurrency: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Updates of different chats handled at "
        "once (waiting for Telegram overlaps); a chat's own updates one at a time",
    )

    hotline: str = "1900 0000"
    office_name: str = "Trung tâm Phục vụ hành chính công"
    office_hours: str = "Thứ Hai đến Thứ Sáu, sáng 7:30–11:30, chiều 13:30–17:00"
    timezone: str = "Asia/Ho_Chi_Minh"

    secret_key: SecretStr = SecretStr(DEV_SECRET)
    verify_by: str = "phone_last4"
    staff_user_ids: list[int] = []
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    api_max_body_bytes: int = Field(
        default=65536, ge=1024, description="Largest request body the API accepts (413 above)"
    )
    api_rate_limit: int = Field(default=120, ge=0, description="Requests per minute per API key; 0 disables")
    api_rate_burst: int = Field(default=30, ge=1, description="Requests a key may send at once before the rate applies")
    trusted_proxies: list[str] = Field(
        default=[],
        description="Reverse proxies (IPs or CIDRs) whose X-Forwarded-For the API believes; empty: none, "
        "the connection's address is the client's",
    )
    api_docs: bool = Field(
        default=False, description="Serve /docs (Swagger UI from the swagger-ui-bundle package, never a CDN)"
    )

    dispatch_interval: float = Field(default=2.0, gt=0, description="Seconds between outbox dispatcher rounds")
    dispatch_batch: int = Field(default=100, ge=1, le=1000, description="Messages claimed per dispatcher round")
    flood_limit: int = Field(default=20, ge=1, description="Messages a chat may send per minute before a pause")
    flood_button_limit: int = Field(
        default=60, ge=1, description="Button presses a chat may make per minute before a pause"
    )
    flood_silence: int = Field(default=120, ge=1, description="Seconds of silence after a flood")
    retention_chat_days: int = Field(default=90, ge=1, description="Idle chat state and checklists kept this long")
    retention_gaps_days: int = Field(default=180, ge=1, description="Unanswered-question logs kept this long")
    retention_closed_days: int = Field(default=30, ge=0, description="Follows kept this long after a case closes")
    retention_outbox_days: int = Field(
        default=30, ge=1, description="Sent, failed, dropped and cancelled notifications kept this long"
    )

    log_level: str = "INFO"
    dispatch_rate_limit: bool = Field(
        default=True,
        description="Telegram's limits (30 msg/s, 1/s per chat); "
        "false only for tests and benchmarks against a local Bot API server",
    )
    dispatch_lease: float = Field(
        default=120.0,
        ge=1,
        description="Seconds a claimed batch stays reserved; "
        "the batch of a process killed mid-send is sent again after this",
    )

    cluster: bool = Field(
        default=False,
        description="Several bot instances behind a load balancer (webhook mode, PostgreSQL only): updates go "
        "through the database inbox, see docs/deployment.md",
    )
    cluster_lease_seconds: float = Field(
        default=10.0,
        ge=1,
        description="Cluster mode: how long a chat claim and the scheduler's leadership last unless renewed; "
        "the work of an instance that died goes on elsewhere after this",
    )
    cluster_instance: str | None = Field(
        default=None, description="Cluster mode: this instance's name in leases and logs; unset: host:pid"
    )
    cluster_drain_seconds: float = Field(
        default=20.0, ge=0, description="Cluster mode: on SIGTERM, how long claimed chats may take to finish"
    )
    chat_state_cache_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long a process trusts its in-memory copy of a chat's state; 0 (cluster mode) reads "
        "the database every time",
    )

    @field_validator("secret_key")
    @classmethod
    def _secret(cls, v: SecretStr) -> SecretStr:
        raw = v.get_secret_value()
        if raw.lower() in PLACEHOLDER_SECRETS or len(raw) < 16:
            raise ValueError("SECRET_KEY is a placeholder or shorter than 16 characters; use a long random string")
        return v

    @property
    def uses_dev_secret(self) -> bool:
        return self.secret_key.get_secret_value() == DEV_SECRET

    @field_validator("verify_by")
    @classmethod
    def _verify_by(cls, v: str) -> str:
        if v not in {"phone_last4", "birth_year"}:
            raise ValueError("VERIFY_BY must be phone_last4 or birth_year")
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: list[str]) -> list[str]:
        for item in v:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"TRUSTED_PROXIES: {item!r} is not an IP address or CIDR network") from None
        return [item.strip() for item in v]

    @field_validator("province")
    @classmethod
    def _province(cls, v: str | None) -> str | None:
        if v is None:
            return v
        slugs = province_slugs()
        if v not in slugs:
            raise ValueError(f"PROVINCE must be one of the 34 province slugs ({', '.join(slugs[:4])}, ...); got {v!r}")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        ZoneInfo(v)
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def knowledge_path(self) -> Path:
        return self.knowledge_dir or Path(__file__).resolve().parent.parent / "knowledge" / "procedures"


@lru_cache
def get_settings() -> Settings:
    return Settings()
