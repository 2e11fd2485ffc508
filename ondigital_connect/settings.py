"""Library-wide settings read from ``ODC_*`` environment variables (never printed with secrets)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings that are not per tenant: where locks live, memory for DuckDB, the hashing pepper.

    Secrets are ``SecretStr`` so ``repr``/``print``/logging show ``**********``.
    """

    model_config = SettingsConfigDict(env_prefix="ODC_", env_nested_delimiter="__", extra="ignore")

    home: Path = Field(default=Path(".odc"), description="Folder for locks and local state.")
    duckdb_memory_limit: str = Field(default="2GB", description="DuckDB memory_limit.")
    duckdb_threads: int = Field(default=2, ge=1, description="DuckDB worker threads.")
    pseudonym_key: SecretStr = Field(
        default=SecretStr("dev-only-pseudonym-key"),
        description="Per-tenant key for hashing customer identifiers; set it in production.",
    )
    shopify_token: SecretStr | None = Field(default=None, description="Shopify Admin API token.")
    batch_size: int = Field(default=5000, ge=1, description="Records per load batch.")
    http_timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, description="HTTP attempts before giving up.")
    control_db: Path = Field(
        default=Path(".odc/control.sqlite3"),
        description="Control database: tenants, subscriptions, key hashes.",
    )
    key_pepper: SecretStr = Field(
        default=SecretStr("dev-only-key-pepper"),
        description="Secret key for hashing API keys (HMAC pepper); set it in production.",
    )
