"""The one settings object: LIANCHUANG_* environment variables or a TOML file."""

import os
from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


class SmtpSecurity(StrEnum):
    none = "none"
    starttls = "starttls"
    ssl = "ssl"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIANCHUANG_", toml_file="lianchuang.toml", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path.cwd() / "lianchuang-data")
    database_url: str | None = None
    locale: str = "zh_CN"
    today: date | None = None  # simulated "today"; unset means the real date in Asia/Shanghai
    # Progress for a month is reported by this day of the next month; `cycle run` and the schedule
    # publish a month's ranking only after it, so no month is ranked (and frozen) before its data.
    reporting_deadline_day: int = Field(default=5, ge=1, le=28)
    # The scheduled monthly ranking waits for the district coordinator's approval in the Prefect UI
    # unless this is set.
    auto_approve: bool = False
    # Imports: a workbook or CSV is refused past these (a decompression bomb within seconds).
    import_max_rows: int = Field(default=200_000, ge=1)
    import_max_unpacked_mb: int = Field(default=300, ge=1)
    # Who is at the keyboard, as the audit log and corrections record it; unset: the login name.
    actor: str | None = Field(default=None, max_length=64)

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_security: SmtpSecurity = SmtpSecurity.none
    smtp_password_block: str | None = None  # name of a Prefect Secret block holding the password
    smtp_timeout: float = 30.0
    smtp_retries: int = 3  # attempts for a transient error, with back-off
    smtp_backoff: float = 2.0  # seconds before the first retry, doubling after
    mail_from: str = "联创平台 <noreply@lianchuang.local>"
    reply_to: str | None = None  # every notice's Reply-To: the office that answers
    contact: str = "区委街道社区党建工作指导委员会办公室"  # named at the foot of every notice
    contact_phone: str | None = None  # with the contact, e.g. "0598-8234567"
    suggestion_email: str | None = None  # where the solicitation asks for suggestions by email (default: reply_to)
    late_alert_seconds: int = Field(default=3600, ge=10)  # a stage's run not started this long after it fell late: an alert
    meeting_time: str = "14:30"  # the joint meeting's time and place when `opinions run` is not told
    meeting_place: str = "{community}党群服务中心会议室"

    # Group chat bots: at most this many messages a minute per bot (the platforms allow about 20), and
    # the webhook address per platform where it is not the public one (Lark: open.larksuite.com).
    chat_per_minute: float = Field(default=20, gt=0)
    chat_endpoints: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'lianchuang.db').resolve()}"

    @property
    def maildir(self) -> Path:
        return self.data_dir / "outbox" / "maildir"

    @property
    def print_dir(self) -> Path:
        return self.data_dir / "outbox" / "print"

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"

    @property
    def board_dir(self) -> Path:
        return self.data_dir / "board"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()


def configure_prefect_environment(settings: Settings) -> None:
    """Prefect reads its own PREFECT_* variables: set quiet, local defaults before it is imported.
    Runs are kept in the data folder, so `lianchuang server` shows the runs the demo made."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_HOME", str((settings.data_dir / "prefect").resolve()))
    # Runs log at INFO to the Prefect UI (the run's Logs tab) while the terminal shows warnings only.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    # Prefect's temporary server creates its database on the first run in a data folder: measured
    # 40 s on a slow disk, past Prefect's default wait of 20 s.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
