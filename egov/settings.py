"""Settings: one pydantic-settings class, read from the environment (prefix `EGOV_`) and
loaded lazily so that tests can override it."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from egov.langs import DEFAULT_LANGUAGE, LANGUAGES


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
    role: str = Field(
        default="",
        description=(
            "The role the command line acts in for the assessment cycle (`egov cycle`): lead or "
            "assessor; a command's --as overrides it. Empty: --as is required."
        ),
    )
    lang: str = Field(
        default=DEFAULT_LANGUAGE,
        description=(
            "Language of every command's output, report and workbook: zh-Hant (default), pt or en; "
            "a command's --lang overrides it."
        ),
    )
    demo_seed: int = Field(
        default=2023, description="Seed of the synthetic part of the built-in Macau demo data."
    )
    demo_ratings_per_period: int = Field(
        default=12_000,
        description="Number of synthetic citizen ratings the demo generates per period.",
    )

    # --- citizen ratings service (`egov serve`, surveys/) ----------------------------------
    secret_key: str = Field(
        default="",
        description=(
            "Server secret that signs rating tokens and keys citizen pseudonyms. Empty: a random "
            "secret is generated once and stored in the database (table app_secret)."
        ),
    )
    previous_secret_key: str = Field(
        default="",
        description=(
            "The server secret before the last rotation: rating tokens signed with it are still "
            "accepted until they expire (EGOV_TOKEN_TTL_DAYS); new tokens and pseudonyms use "
            "EGOV_SECRET_KEY only. Written as EGOV_SECRET_KEY was, or hex:<value> for a secret "
            "generated in the database (app_secret). Empty: none (docs/deployment.md)."
        ),
    )
    allowed_origins: str = Field(
        default="",
        description=(
            "Comma-separated web origins allowed to call the rating API from a browser (CORS) and "
            "to frame the widget, e.g. https://www.gov.mo. Empty: same origin only."
        ),
    )
    store_ip: bool = Field(
        default=False, description="Store the client IP address with each rating (off: never stored)."
    )
    max_body_bytes: int = Field(
        default=65_536, description="Largest request body accepted by the API (413 above it)."
    )
    max_batch_body_bytes: int = Field(
        default=2_000_000, description="Largest request body accepted by the batch endpoints (413 above it)."
    )
    rate_limit_client: int = Field(
        default=600,
        description="Requests per minute allowed per client address (429 above it; token bucket per worker).",
    )
    rate_limit_issuer: int = Field(
        default=60_000,
        description=(
            "Rating tokens a department key may ask for per minute (the key making the request; "
            "ratings are limited per client address, never per token issuer); 429 above it; "
            "token bucket per worker."
        ),
    )
    burst_window_minutes: int = Field(
        default=10, description="Window of the burst detection that flags ratings for review."
    )
    burst_object_max: int = Field(
        default=500,
        description="More ratings than this of one object within the burst window are flagged for review.",
    )
    burst_issuer_max: int = Field(
        default=2_000,
        description="More ratings than this from one issuer key within the burst window are flagged for review.",
    )
    token_ttl_days: int = Field(default=14, description="Days a rating token stays valid after it is issued.")
    rating_retention_days: int = Field(
        default=730,
        description="Raw ratings older than this many days are anonymised by `egov ratings purge`.",
    )
    case_return_visit_days: int = Field(
        default=1,
        description="Working days after rectification within which a bad rating's return visit is due.",
    )
    case_rectify_days: int = Field(
        default=15, description="Working days after a bad rating within which its rectification is due."
    )
    min_ratings: int = Field(
        default=30,
        description="Fewer ratings than this give no rating measure in the API (insufficient, not ranked).",
    )
    timezone: str = Field(
        default="Asia/Macau", description="Time zone that decides the day a rating or a token counts on."
    )
    holidays_file: str = Field(
        default="",
        description="Working-day calendar TOML (public holidays, compensatory days; the form of "
        "surveys/data/macau_holidays.toml) for case deadlines; empty: the built-in Macau one.",
    )
    question_channels_file: str = Field(
        default="",
        description="Which question set each rating channel shows (TOML: `default` and `[channels]`, the form "
        "of surveys/data/question_channels.toml); empty: the built-in one (the overall rating everywhere).",
    )
    max_import_bytes: int = Field(
        default=20_000_000,
        description=(
            "Largest file (bytes) that `egov import`, `egov framework import` and `egov evaluate` "
            "accept; larger files are refused unread."
        ),
    )
    max_import_unpacked_bytes: int = Field(
        default=100_000_000,
        description=(
            "Largest total uncompressed size (bytes) of an XLSX file's zip members, checked in the "
            "zip directory before the workbook is opened (zip-bomb guard)."
        ),
    )
    max_bundle_bytes: int = Field(
        default=1_000_000_000,
        description=(
            "Largest total size (bytes) of a run bundle's files that `egov runs verify` reads "
            "(uncompressed; each member's declared size and compression ratio are checked first)."
        ),
    )
    max_import_rows: int = Field(
        default=20_000,
        description=(
            "Most rows a sheet or CSV file may have in `egov import`, `egov framework import` and "
            "`egov evaluate` (huge-sheet guard)."
        ),
    )
    # --- evidence of metric values (egov.evidence, `egov values evidence`) -------------------
    evidence_dir: str = Field(
        default="",
        description=(
            "Folder where evidence files of metric values are stored by their SHA-256. Empty: the "
            "folder `evidence` beside the SQLite database file, else in the working directory."
        ),
    )
    evidence_max_bytes: int = Field(
        default=20_000_000,
        description="Largest evidence file (bytes) a department or the assessor may attach to a value.",
    )

    @field_validator("lang")
    @classmethod
    def _known_lang(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"EGOV_LANG {value!r}: use one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("previous_secret_key")
    @classmethod
    def _hex_secret(cls, value: str) -> str:
        if value.startswith("hex:"):
            try:
                bytes.fromhex(value[4:])
            except ValueError:
                raise ValueError(
                    "after 'hex:' give the secret as hexadecimal digits (app_secret.value)"
                ) from None
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call `reset_settings()` after changing the env)."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings so that the next `get_settings()` re-reads the environment."""
    get_settings.cache_clear()
