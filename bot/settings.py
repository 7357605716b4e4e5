"""Typed settings, read once from the environment (and an optional `.env`)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# BotFather's tokens: the bot id, a colon, then 35 characters of base64url.
TOKEN_PATTERN = re.compile(r"^\d{5,16}:[A-Za-z0-9_-]{30,64}$")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
DEFAULT_DATABASE_URL = "sqlite:///data/recert.db"
DATABASE_SCHEMES = {"sqlite", "postgresql", "postgres", "postgresql+asyncpg"}


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line meant for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_base_url: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False
    default_language: Literal["en", "es", "ru"] = "en"
    default_time_zone: str = "UTC"
    default_reminder_hour: int = Field(default=9, ge=0, le=23)
    migrate_on_start: bool = True
    rate_limit: bool = True
    # Seconds between nudge sweeps; 0 turns the sweep job off (tests drive sweeps themselves).
    sweep_interval: float = Field(default=60, ge=0)
    # Webhook mode: set WEBHOOK_URL (the public HTTPS address Telegram posts to) and
    # WEBHOOK_SECRET; unset, the bot long-polls.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"  # all interfaces: in a container, the only way in
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    # Conversation state read from the database on every update, so several replicas share
    # it. Unset: on in webhook mode on PostgreSQL (replicas), off otherwise (pays nothing).
    shared_state: bool | None = None
    # Polling: touched while the bot polls, read by `recert health` (the image's health check).
    heartbeat_file: Path = Path(tempfile.gettempdir()) / "recert.heartbeat"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("default_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        # Never echo the value: it may carry a password.
        scheme = value.strip().partition("://")[0].lower()
        if scheme not in DATABASE_SCHEMES or "://" not in value:
            raise ValueError(
                "expected sqlite:///path/to/recert.db or postgresql://user:password@host:5432/db"
            )
        return value.strip()

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_PATTERN.match(value.get_secret_value().strip()):
            # Never echo the value: it may be a real token with a typo.
            raise ValueError("malformed (expected the form 123456:ABC-DEF... from @BotFather)")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// address (Telegram posts only over HTTPS)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None  # set but empty (compose passes empty variables): not set
        # Telegram's rule for secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
        if value is not None and not SECRET_PATTERN.match(value.get_secret_value()):
            raise ValueError(
                "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET is required with WEBHOOK_URL: it proves a request is Telegram's"
            )
        return self

    @property
    def webhook(self) -> bool:
        return bool(self.webhook_url)

    @property
    def webhook_path(self) -> str:
        """The path of WEBHOOK_URL: the server answers updates there (`/` if none)."""
        assert self.webhook_url
        return urlsplit(self.webhook_url).path or "/"

    @property
    def share_state(self) -> bool:
        if self.shared_state is not None:
            return self.shared_state
        return self.webhook and self.database_url.startswith("postgres")

    @property
    def token(self) -> str:
        if self.telegram_bot_token is None:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: get one from @BotFather, or try the bot "
                "without one: python -m bot chat"
            )
        return self.telegram_bot_token.get_secret_value().strip()

    @property
    def base_url(self) -> str | None:
        """The Bot API base for PTB (the token is appended), or None for Telegram's own."""
        if not self.telegram_api_base_url:
            return None
        url = self.telegram_api_base_url.rstrip("/")
        if "{token}" in url or url.endswith("/bot"):
            return url
        return url + "/bot"

    @property
    def base_file_url(self) -> str | None:
        base = self.base_url
        if base is None:
            return None
        head, sep, tail = base.rpartition("/bot")
        return f"{head}/file/bot{tail}" if sep else base

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None (PostgreSQL, or SQLite in memory)."""
        if not self.database_url.startswith("sqlite") or ":memory:" in self.database_url:
            return None
        path = self.database_url.split("///", 1)[-1]
        return Path(path) if path else None

    def ensure_data_dir(self) -> None:
        """Create the directory of a SQLite file, so the default works on a fresh clone."""
        path = self.sqlite_path
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SettingsError(
                f"DATABASE_URL: cannot create the folder {path.parent} ({error.strerror})"
            ) from None


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per problem."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]).upper() or "settings"
            problems.append(f"{field}: {error['msg'].removeprefix('Value error, ')}")
        raise SettingsError("; ".join(problems)) from None
