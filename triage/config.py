"""The one place that reads the environment.

Everything else receives a `Settings` object (or the values it needs) from its
caller, so a test can build one with keyword arguments and no environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Region = Literal["england-and-wales", "scotland", "northern-ireland"]
REGIONS: tuple[str, ...] = ("england-and-wales", "scotland", "northern-ireland")


class ConfigError(ValueError):
    """A setting is missing or wrong; the CLI prints it as one line and exits 2."""


class Settings(BaseSettings):
    """All configuration of a triage installation (environment variables `TRIAGE_*`)."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    # --- core -----------------------------------------------------------------
    data_dir: Path = Field(Path("var"), description="Where the embedded database, blobs and logs live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; unset means an SQLite file in the data directory."
    )
    redis_url: str | None = Field(
        None, description="Redis for the work queue; unset means the embedded queue."
    )
    region: Region = Field("england-and-wales", description="Bank-holiday region for business days.")
    council_file: Path | None = Field(
        None, description="TOML file with the council's names, numbers, URLs and deadline policies."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_format: Literal["json", "text"] = Field("json", description="Structured JSON or plain text logs.")
    triage_retries: int = Field(5, description="Attempts for a triage job before the message is marked failed.")
    lease_seconds: int = Field(300, description="How long a job may hold a message before a sweep retries it.")
    max_attachment_bytes: int = Field(25 * 1024 * 1024, description="Largest attachment stored.")

    # --- web application --------------------------------------------------------
    http_host: str = Field("127.0.0.1", description="Address the web application listens on.")
    http_port: int = Field(8000, description="Port of the web application.")
    public_base_url: str | None = Field(
        None, description="Public URL of the web application (Twilio signs it; used behind a proxy)."
    )
    environment: Literal["development", "production"] = Field(
        "development", description="`production` refuses a missing or placeholder secret key and sends "
                                   "the staff session cookie over HTTPS only."
    )
    secret_key: str | None = Field(
        None, description="Signs the staff pages' session cookie (32+ random characters). Unset in development "
                          "means a random key per start, so staff sign in again after a restart."
    )
    staff_session_hours: int = Field(8, description="How long a staff sign-in lasts, in hours.")

    # --- classifier ------------------------------------------------------------
    model_dir: Path = Field(Path("models"), description="Versioned classifier models and the current pointer.")
    promotion_tolerance: float = Field(
        0.01, description="How far below the current model a candidate may score on any head and still be promoted."
    )

    # --- decisions and replies -------------------------------------------------
    duty_email: str | None = Field(None, description="Address alerted at once about urgent messages.")
    auto_replies_per_hour: int = Field(3, description="Automatic replies per sender per hour at most.")
    auto_reply_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description='Per-head confidence floors for automatic replies, JSON such as {"service": 0.95}; '
                    "they override the model card's.",
    )

    # --- email -----------------------------------------------------------------
    smtp_enabled: bool = Field(
        True, description="Whether `triage run` starts the inbound SMTP server (off when mail arrives only by IMAP)."
    )
    smtp_host: str = Field("127.0.0.1", description="Address the inbound SMTP server listens on.")
    smtp_port: int = Field(2525, description="Port of the inbound SMTP server.")
    smtp_accept: str | None = Field(
        None, description="Comma-separated addresses and @domains accepted; unset accepts every recipient."
    )
    smtp_max_bytes: int = Field(25 * 1024 * 1024, description="Largest message the SMTP server accepts.")
    smtp_tls_cert: Path | None = Field(None, description="Certificate for STARTTLS (with smtp_tls_key).")
    smtp_tls_key: Path | None = Field(None, description="Private key for STARTTLS.")
    imap_url: str | None = Field(None, description="imap(s)://user:password@host:port of a shared mailbox.")
    imap_folder: str = Field("INBOX", description="Mailbox folder to read.")
    imap_processed_folder: str = Field("Processed", description="Folder that stored messages are moved to.")
    outbound_smtp_url: str | None = Field(None, description="smtp(s)://user:password@host:port for replies.")
    mail_from: str = Field("customer.services@council.example", description="From address of replies.")

    # --- SMS, Telegram, web chat ---------------------------------------------------
    twilio_account_sid: str | None = Field(None, description="Twilio account SID.")
    twilio_auth_token: str | None = Field(None, description="Twilio auth token (signs webhooks).")
    twilio_from: str | None = Field(None, description="Sending number or messaging service SID.")
    twilio_api_base: str | None = Field(None, description="Override of the Twilio API host (tests).")
    telegram_token: str | None = Field(None, description="Telegram bot token.")
    telegram_secret: str | None = Field(None, description="Secret token Telegram sends with webhooks.")
    telegram_api_base: str | None = Field(None, description="Override of the Bot API URL (tests).")
    chat_rate_session: int = Field(10, description="Web-chat messages one chat session may send per minute.")
    chat_rate_ip: int = Field(
        60, description="Web-chat messages and new sessions one client address may send per minute."
    )
    chat_session_days: int = Field(
        7, ge=1, description="Days a web-chat session stays usable after its last message or poll; then the widget "
                             "starts a new one."
    )
    chat_frame_ancestors: str = Field(
        "'self'", description="Who may show the chat widget in a frame (CSP `frame-ancestors`), e.g. "
                              "`https://www.council.gov.uk`; `'self'` only allows triage's own pages."
    )

    # --- post ------------------------------------------------------------------
    post_inbox: Path | None = Field(
        None, description="Folder the scanner writes into (watched; `processed/` and `failed/` are made inside)."
    )
    post_outbox: Path | None = Field(None, description="Folder reply letters are written to for printing.")
    post_max_bytes: int = Field(50 * 1024 * 1024, description="Largest scan file taken, in bytes.")
    post_max_pages: int = Field(20, description="Most pages read from one scan file.")
    post_upload_token: str | None = Field(
        None, description="Bearer token for POST /post/upload; unset turns the upload endpoint off."
    )
    ocr_langs: str = Field("eng+cym", description="Tesseract languages.")
    ocr_min_confidence: float = Field(
        80.0, description="Mean OCR word confidence (0-100) below which a page is flagged for a person to read."
    )
    ocr_workers: int = Field(2, description="Pages OCR'd at once (one Tesseract process each).")

    @field_validator("data_dir", "model_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def effective_database_url(self) -> str:
        """The database URL in use: the configured one or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'triage.db'}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one-line `ConfigError`s."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "TRIAGE_" + str(first["loc"][0]).upper() if first.get("loc") else "settings"
        raise ConfigError(f"{name}: {first['msg']}") from None
