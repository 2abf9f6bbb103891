"""Every setting, read from the environment once, with safe defaults for `make run`.

create_app(settings) takes a dict that overrides these (the tests use it). README lists them.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"

ENVIRONMENTS = ("development", "production")
# Values that must never be accepted as a production SECRET_KEY.
WEAK_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development", "signpost"}
MIN_SECRET_LENGTH = 32
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


class SettingsError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _bool(env, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _int(env, name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def database_url(raw: str | None) -> str:
    """DATABASE_URL with PostgreSQL pointed at psycopg 3 (the only driver installed)."""
    if not raw:
        return f"sqlite:///{INSTANCE / 'signpost.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def from_environment(env=os.environ) -> dict:
    environment = env.get("SIGNPOST_ENV", "development").strip().lower()
    if environment not in ENVIRONMENTS:
        raise SettingsError(f"SIGNPOST_ENV must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    production = environment == "production"
    secure_cookies = _bool(env, "SIGNPOST_SECURE_COOKIES", default=production)
    return {
        "ENVIRONMENT": environment,
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "SQLALCHEMY_DATABASE_URI": database_url(env.get("DATABASE_URL")),
        "COUNCIL_NAME": env.get("SIGNPOST_COUNCIL_NAME", "").strip(),
        "SESSION_IDLE_MINUTES": _int(env, "SIGNPOST_SESSION_IDLE_MINUTES", 30, minimum=1),
        "SESSION_MAX_HOURS": _int(env, "SIGNPOST_SESSION_MAX_HOURS", 12, minimum=1),
        "DRAFT_RETENTION_DAYS": _int(env, "SIGNPOST_DRAFT_RETENTION_DAYS", 30, minimum=1),
        # Retention (README "Retention and erasure"): days after which records are purged or
        # their identifying details erased by `flask retention purge`.
        "REFERRAL_RETENTION_DAYS": _int(env, "SIGNPOST_REFERRAL_RETENTION_DAYS", 6 * 365, minimum=30),
        "DECISION_RETENTION_DAYS": _int(env, "SIGNPOST_DECISION_RETENTION_DAYS", 6 * 365, minimum=30),
        "ASSESSMENT_RETENTION_DAYS": _int(env, "SIGNPOST_ASSESSMENT_RETENTION_DAYS", 8 * 365, minimum=30),
        "AUDIT_RETENTION_DAYS": _int(env, "SIGNPOST_AUDIT_RETENTION_DAYS", 6 * 365, minimum=30),
        "MAX_OPEN_DRAFTS": _int(env, "SIGNPOST_MAX_OPEN_DRAFTS", 25, minimum=1),
        "THRESHOLDS_DIR": env.get("SIGNPOST_THRESHOLDS_DIR", str(ROOT / "thresholds")),
        # How long a process reuses its list of versions published from Signpost before asking the database again.
        "THRESHOLDS_CACHE_SECONDS": _int(env, "SIGNPOST_THRESHOLDS_CACHE_SECONDS", 5),
        "DIRECTORY_PATH": env.get("SIGNPOST_DIRECTORY_PATH", str(ROOT / "directory" / "services.yaml")),
        "GOVUK_FRONTEND_DIR": env.get("SIGNPOST_GOVUK_FRONTEND_DIR",
                                      str(ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk")),
        "TRUSTED_PROXIES": _int(env, "SIGNPOST_TRUSTED_PROXIES", 0),
        "LOG_LEVEL": env.get("SIGNPOST_LOG_LEVEL", "INFO").upper(),
        # Sign-in throttling (Flask-Limiter syntax); only failed attempts count.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", "signpost"),
        # Redis unreachable: count in this process's memory (with a logged warning) rather than
        # refuse every sign-in; short timeouts so an unreachable Redis never stalls a request.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": ({"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
                                      if env.get("RATELIMIT_STORAGE_URI", "").startswith(("redis://", "rediss://"))
                                      else {}),
        # Explicit: Flask-Limiter's one limiter object otherwise takes its default from
        # whichever app was set up last (a test app may switch it off).
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "SIGN_IN_LIMIT_PER_ACCOUNT": env.get("SIGNPOST_SIGN_IN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        # The JSON API (/api/v1): one budget per client address for all its endpoints.
        "API_RATELIMIT": env.get("SIGNPOST_API_RATELIMIT", "60 per minute"),
        "SIGN_IN_LIMIT_PER_ADDRESS": env.get("SIGNPOST_SIGN_IN_LIMIT_PER_ADDRESS", "30 per 15 minutes"),
        # argon2id cost (RFC 9106 second recommended option); the tests pass cheap values.
        "ARGON2_TIME_COST": _int(env, "SIGNPOST_ARGON2_TIME_COST", 3, minimum=1),
        "ARGON2_MEMORY_COST": _int(env, "SIGNPOST_ARGON2_MEMORY_KIB", 65536, minimum=8),
        "ARGON2_PARALLELISM": _int(env, "SIGNPOST_ARGON2_PARALLELISM", 4, minimum=1),
        "PASSWORD_MIN_LENGTH": _int(env, "SIGNPOST_PASSWORD_MIN_LENGTH", 12, minimum=8),
        # A password someone else set (an administrator, `flask users`) stops working after this long.
        "TEMPORARY_PASSWORD_DAYS": _int(env, "SIGNPOST_TEMPORARY_PASSWORD_DAYS", 7, minimum=1),
        # Cookies: HttpOnly always, SameSite=Lax, Secure outside development.
        "SESSION_COOKIE_NAME": "signpost_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session (idle timeout applies)
        "WTF_CSRF_SSL_STRICT": True,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},  # no child data in logs
        # Email to referrers when the front door decides (a link only). No host: nothing is sent,
        # and messages wait in the outbox until one is set and `flask mail send-pending` runs.
        "BASE_URL": env.get("SIGNPOST_BASE_URL", "http://127.0.0.1:8000").strip().rstrip("/"),
        "SMTP_HOST": env.get("SIGNPOST_SMTP_HOST", "").strip(),
        "SMTP_PORT": _int(env, "SIGNPOST_SMTP_PORT", 587, minimum=1),
        "SMTP_USERNAME": env.get("SIGNPOST_SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SIGNPOST_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(env, "SIGNPOST_SMTP_STARTTLS", default=True),
        "SMTP_SSL": _bool(env, "SIGNPOST_SMTP_SSL", default=False),
        "SMTP_FROM": env.get("SIGNPOST_SMTP_FROM", "signpost@localhost").strip(),
        "SMTP_TIMEOUT": _int(env, "SIGNPOST_SMTP_TIMEOUT", 10, minimum=1),
        "SMTP_MAX_ATTEMPTS": _int(env, "SIGNPOST_SMTP_MAX_ATTEMPTS", 12, minimum=1),
        "SEND_FILE_MAX_AGE_DEFAULT": 365 * 24 * 3600,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
    }


def check(config: dict) -> None:
    """Refuse to start with settings that would be unsafe in production."""
    if config.get("ENVIRONMENT") == "production":
        secret = config.get("SECRET_KEY") or ""
        if secret.strip().lower() in WEAK_SECRETS or len(secret) < MIN_SECRET_LENGTH:
            raise SettingsError(
                "SIGNPOST_ENV=production needs a real SECRET_KEY of at least "
                f"{MIN_SECRET_LENGTH} random characters, for example: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'")
        # Each decision's email to the referrer is written with its link when the decision is made, mail
        # server or not: a default address would send every referrer to their own machine.
        base = urlsplit(config.get("BASE_URL") or "")
        if base.scheme != "https" or not base.hostname or base.hostname in LOOPBACK_HOSTS:
            raise SettingsError(
                "SIGNPOST_ENV=production needs SIGNPOST_BASE_URL, the service's public https address (for "
                f"example https://signpost.council.example), got {config.get('BASE_URL')!r}: the emails "
                "to referrers link to it.")
