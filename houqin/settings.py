"""Settings: one class, read from HOUQIN_* environment variables or a .env file.

Nothing is built at import time: callers get settings from ``get_settings()`` (cached) or
construct ``Settings(...)`` themselves, as tests do.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOUQIN_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/houqin.sqlite",
        description="SQLAlchemy URL of the ledger; a relative SQLite path is under the working "
        "directory. postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    timezone: str = Field("Asia/Shanghai", description="Default time zone of new schools.")
    calendar_dir: Path | None = Field(
        None, description="Directory of school-year calendar files; default: the built-in one."
    )
    plans_dir: Path | None = Field(
        None, description="Directory of a school's own plan templates, read beside the built-ins."
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL of the web UI, used in message links."
    )
    secret_key: str = Field(
        "change-me-houqin-dev-secret",
        description="Key that signs links in messages and session cookies; set it in production.",
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
    web_host: str = Field("127.0.0.1", description="Address `houqin serve` listens on.")
    web_port: int = Field(8000, ge=1, le=65535, description="Port `houqin serve` listens on.")
    web_threads: int = Field(
        8,
        ge=1,
        le=200,
        description="Worker threads per web process for database work. Fewer threads contend "
        "less for Python's GIL: 4-8 served more ticks/s than 40 (docs/benchmark.md).",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
