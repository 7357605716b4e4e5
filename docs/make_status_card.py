"""Draw docs/status-card.png, the README's picture: a demo trainer's real status card.

    python docs/make_status_card.py

The bot runs on the offline Bot API with a throw-away SQLite file: a trainer starts a chat,
her credentials are stored, she sends /status and presses "As a picture"; the PNG the bot
sends is written here.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr
from telegram import Update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_application, shutdown, startup  # noqa: E402
from bot.offline import OFFLINE_TOKEN, OfflineBotAPI, Person  # noqa: E402
from bot.settings import Settings  # noqa: E402
from scheduler.cycles import Cycle  # noqa: E402
from storage import credentials  # noqa: E402

OUTPUT = ROOT / "docs" / "status-card.png"


def demo_credentials(trainer_id: int, today: date):  # type: ignore[no-untyped-def]
    """NASM due in seven weeks and behind, ACE on track, NSCA far off, a CPR/AED card."""

    def add(session):  # type: ignore[no-untyped-def]
        def held(catalog_id: str, start: date, end: date, units: str | None) -> int:
            cycle = Cycle(start, end, Decimal(units) if units else None)
            saved = credentials.add(session, trainer_id, cycle, catalog_id=catalog_id)
            assert saved.id is not None
            return saved.id

        nasm = held("nasm-cpt", today - timedelta(days=680), today + timedelta(days=50), "2.0")
        credentials.add_credit(
            session, trainer_id, nasm, Decimal("0.8"), today - timedelta(days=40), "Mobility"
        )
        ace = held("ace-cpt", today - timedelta(days=300), today + timedelta(days=430), "2.0")
        credentials.add_credit(
            session, trainer_id, ace, Decimal("1.2"), today - timedelta(days=20), "Nutrition"
        )
        held("aha-cpr", today - timedelta(days=200), today + timedelta(days=530), None)

    return add


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=SecretStr(OFFLINE_TOKEN),
            database_url=f"sqlite:///{folder}/demo.db",
            sweep_interval=0,
            rate_limit=False,
        )
        api = OfflineBotAPI()
        application = build_application(settings, request=api)
        api.deliver_to(
            lambda payload: application.process_update(Update.de_json(payload, application.bot))
        )
        await startup(application)
        try:
            maria = Person(api, 4242, "María", "en")
            await maria.send("/start")
            await maria.press("✓ English")
            await maria.send("Chicago")
            today = datetime.now(UTC).date()
            await application.bot_data["db"].run(demo_credentials(maria.id, today))
            await maria.send("/status")
            await maria.press("🖼 As a picture")
            photo = maria.last["photo"][-1]["file_id"]
            png = api.files[photo].data
        finally:
            await shutdown(application)
    await asyncio.to_thread(OUTPUT.write_bytes, png)
    print(f"{OUTPUT.relative_to(ROOT)}: {len(png):,} bytes")


if __name__ == "__main__":
    asyncio.run(main())
