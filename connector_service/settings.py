"""The service's settings, from ``ODC_*`` environment variables (secrets never printed)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"


class ServiceSettings(BaseSettings):
    """Where the control database is, the pepper for key hashes, limits and the cache size.

    Identity tokens are accepted only when ``identity_audiences`` names the Apps Script's
    OAuth client id(s); otherwise only API keys are.
    """

    model_config = SettingsConfigDict(env_prefix="ODC_", extra="ignore")

    control_db: Path = Field(default=Path(".odc/control.sqlite3"))
    key_pepper: SecretStr = Field(default=SecretStr("dev-only-key-pepper"))
    rate_limit_db: Path | None = Field(
        default=None, description="Rate-limit counts; defaults to a file beside control_db.")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024,
                                description="Larger request bodies get 413.")
    cache_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1,
                                 description="Response cache size per worker, in bytes.")
    cache_ttl_seconds: float = Field(default=900.0, gt=0)
    identity_audiences: list[str] = Field(
        default_factory=list, description="Apps Script OAuth client ids (identity tokens).")
    identity_certs_url: str = Field(default=GOOGLE_CERTS_URL)
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token for /v1/admin/*; admin is off when unset.")

    def limiter_path(self) -> Path:
        """The rate-limit database: configured, or ``<control_db>.ratelimit``."""
        if self.rate_limit_db is not None:
            return self.rate_limit_db
        return self.control_db.with_name(self.control_db.name + ".ratelimit")
