"""The deployment files say what the README promises (no Docker engine runs in CI: these
checks keep the files honest)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_image_runs_as_a_non_root_user_with_sqlite_on_a_volume() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert 'VOLUME ["/data"]' in dockerfile
    assert "DATABASE_URL=sqlite:////data/recert.db" in dockerfile
    # Every package the image needs is copied into the build stage.
    for package in ("bot", "handlers", "scheduler", "storage", "locales"):
        assert f"COPY {package} ./{package}" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".env" in ignored


def test_compose_runs_migrations_once_then_the_bot_on_postgresql() -> None:
    compose = (ROOT / "compose.yaml").read_text()
    services = re.findall(r"^  (\w+):$", compose, re.M)
    assert services[:3] == ["db", "migrate", "bot"]
    migrate = compose.split("\n  migrate:\n", 1)[1].split("\n  bot:\n", 1)[0]
    assert 'command: ["recert", "migrate"]' in migrate and 'restart: "no"' in migrate
    bot = compose.split("\n  bot:\n", 1)[1]
    assert "condition: service_completed_successfully" in bot
    assert 'MIGRATE_ON_START: "false"' in bot
    assert "DATABASE_URL: postgresql://" in bot
    assert "postgres:" in compose.split("\n  db:\n", 1)[1]
