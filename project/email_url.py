"""Turn EMAIL_URL into Django email settings, so one variable configures the transport."""

from urllib.parse import parse_qs, unquote, urlsplit

BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}


def email_settings_from_url(url: str) -> dict:
    """`smtp+tls://user:pass@host:587` → {"EMAIL_BACKEND": …, "EMAIL_HOST": …, …}."""
    parts = urlsplit(url)
    if parts.scheme not in BACKENDS:
        raise ValueError(f"EMAIL_URL scheme must be one of {sorted(BACKENDS)}, not {parts.scheme!r}")
    settings = {"EMAIL_BACKEND": BACKENDS[parts.scheme]}
    if parts.scheme == "file":
        settings["EMAIL_FILE_PATH"] = unquote(parts.path)
    elif parts.scheme.startswith("smtp"):
        query = parse_qs(parts.query)
        settings.update(
            EMAIL_HOST=parts.hostname or "localhost",
            EMAIL_PORT=parts.port or (465 if parts.scheme == "smtps" else 25),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_TLS=parts.scheme == "smtp+tls",
            EMAIL_USE_SSL=parts.scheme == "smtps",
        )
        if "timeout" in query:
            settings["EMAIL_TIMEOUT"] = int(query["timeout"][0])
    return settings
