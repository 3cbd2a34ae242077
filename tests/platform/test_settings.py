import os
import subprocess
import sys
from pathlib import Path

from project.email_url import email_settings_from_url

ROOT = Path(__file__).resolve().parents[2]


def test_email_url_smtp_with_tls():
    settings = email_settings_from_url("smtp+tls://user:p%40ss@mail.example.test:587")
    assert settings["EMAIL_HOST"] == "mail.example.test"
    assert settings["EMAIL_PORT"] == 587
    assert settings["EMAIL_HOST_PASSWORD"] == "p@ss"
    assert settings["EMAIL_USE_TLS"] is True


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
        "ALLOWED_HOSTS": "backoffice.example.test",
        "CSRF_TRUSTED_ORIGINS": "https://backoffice.example.test",
        "DJANGO_SECURE_SSL_REDIRECT": "1",
        "DJANGO_HSTS_SECONDS": "31536000",
        "DJANGO_BEHIND_PROXY": "1",
        "VAR_DIR": str(tmp_path),
    }
    env.pop("DJANGO_DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser fixture in this process
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
