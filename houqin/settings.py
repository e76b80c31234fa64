"""Settings: one class, read from HOUQIN_* environment variables or a .env file.

Nothing is built at import time: callers get settings from ``get_settings()`` (cached) or
construct ``Settings(...)`` themselves, as tests do.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOUQIN_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/houqin.sqlite",
        description="SQLAlchemy URL of the ledger; a relative SQLite path is under the working "
        "directory. postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    timezone: str = Field("Asia/Shanghai", description="Default time zone of new schools.")
    today: date | None = Field(
        None,
        description="A replayed day the web UI serves (its pages' clock and link expiry), as "
        "`houqin serve --today` sets it for a demo; unset: the real date.",
    )
    calendar_dir: Path | None = Field(
        None, description="Directory of school-year calendar files; default: the built-in one."
    )
    plans_dir: Path | None = Field(
        None, description="Directory of a school's own plan templates, read beside the built-ins."
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL of the web UI, used in message links."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key that signs reminder links, session cookies and forms (32 characters or "
        "more). Unset: the random key `houqin init` writes to <data dir>/secret_key. A new key "
        "ends every link and session signed with the old one (docs/security.md).",
    )
    data_dir: Path = Field(
        Path("var"), description="Where photos, reports, mail files and Prefect's home go."
    )
    prefect_api_url: str = Field(
        "http://127.0.0.1:4200/api",
        description="The Prefect server's API. Commands that run a flow use it when it answers "
        "(as under `make up`) and a temporary server over <data dir>/prefect when not. "
        "PREFECT_API_URL, if set, wins.",
    )
    alert_webhook_url: str | None = Field(
        None,
        description="Where a Failed flow run is posted (JSON {text}): the Prefect automation "
        "`houqin-failed-run` that `python -m flows.serve` and `python -m flows.alerts` create.",
    )
    web_host: str = Field("127.0.0.1", description="Address `houqin serve` listens on.")
    web_port: int = Field(8000, ge=1, le=65535, description="Port `houqin serve` listens on.")
    web_threads: int = Field(
        8,
        ge=1,
        le=200,
        description="Worker threads per web process for database work. Fewer threads contend "
        "less for Python's GIL: 4-8 served more ticks/s than 40 (docs/benchmark.md).",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks (10.0.0.5, 10.0.0.0/24) of reverse "
        "proxies whose X-Forwarded-For and X-Forwarded-Proto are believed. Empty (the default): "
        "none, not even loopback; every client is the address that connected.",
    )
    max_body_mb: int = Field(
        45,
        ge=1,
        le=1024,
        description="Largest request body the web UI reads, in MB (a form with up to five 8 MB "
        "photos); a larger one is refused with 413 before it is read.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
        return value

    def proxy_networks(self) -> list[str]:
        """The trusted proxies as a list (empty: trust no forwarded header)."""
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
