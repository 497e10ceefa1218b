"""Settings: one pydantic-settings class, read from the environment (prefix `EGOV_`) and
loaded lazily so that tests can override it."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """egov-eval settings. Every field can be set as an environment variable `EGOV_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="EGOV_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///egov.db",
        description=(
            "SQLAlchemy URL of the database. Default: the SQLite file egov.db in the working "
            "directory (WAL mode). PostgreSQL: postgresql+psycopg://user@host:5432/dbname."
        ),
    )
    operator: str = Field(
        default="",
        description="Name recorded as the importer / runner of stored data; default: the OS user.",
    )
    demo_seed: int = Field(
        default=2023, description="Seed of the synthetic part of the built-in Macau demo data."
    )
    demo_ratings_per_period: int = Field(
        default=12_000,
        description="Number of synthetic citizen ratings the demo generates per period.",
    )
    max_import_bytes: int = Field(
        default=20_000_000,
        description="Largest file (bytes) that `egov import` accepts; larger files are refused unread.",
    )
    max_import_unpacked_bytes: int = Field(
        default=100_000_000,
        description=(
            "Largest total uncompressed size (bytes) of an XLSX file's zip members, checked in the "
            "zip directory before the workbook is opened (zip-bomb guard)."
        ),
    )
    max_import_rows: int = Field(
        default=20_000,
        description="Most rows a sheet or CSV file may have in `egov import` (huge-sheet guard).",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call `reset_settings()` after changing the env)."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings so that the next `get_settings()` re-reads the environment."""
    get_settings.cache_clear()
