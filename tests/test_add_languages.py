"""/add and /credentials in Spanish and Russian: day-first dates, month names, plurals."""

from __future__ import annotations

from datetime import date

from storage import credentials
from tests.conftest import Bot
from tests.helpers import nsca_now, onboard


async def test_russian_nsca_with_a_month_name(bot: Bot) -> None:
    ivan = bot.person("Иван", language_code="ru")
    await onboard(ivan, "✓ Русский", "Москва")
    await ivan.send("/add")
    assert "Какая организация выдала сертификат?" in ivan.last_text
    await ivan.press("NSCA")
    await ivan.press("CSCS")
    assert "15.03.2025" in ivan.last_text  # the example is in the Russian format
    await ivan.send("15 марта 2025")
    await ivan.press("Пропустить")
    text = ivan.last_text
    assert "Проверьте, пожалуйста:" in text
    assert "СЛР/АНД" in text and "CPR/AED" not in text  # the term in Russian
    nsca_end, nsca_units = nsca_now(date(2025, 3, 15))  # 31 Dec 2026, 2 CEU until 2027
    assert "15 марта 2025" in text and f"31 декабря {nsca_end.year}" in text
    hours = int(nsca_units * 10)
    assert f"Нужно набрать: {nsca_units.normalize()} CEU ({hours} ч)" in text
    assert "через" in text and "дн" in text  # "через 37 дней", a Russian plural
    await ivan.press("✅ Сохранить")
    assert "Сохранено: CSCS." in ivan.inbox[-2]["text"]
    [held] = await bot.db.run(lambda s: credentials.held_by(s, ivan.id, bot.catalog))
    assert (
        held.credential.certified_on,
        held.credential.cycle_end,
        held.credential.units_required,
    ) == (date(2025, 3, 15), nsca_end, nsca_units)


async def test_spanish_day_first_expiry_and_credentials_list(bot: Bot) -> None:
    lucia = bot.person("Lucía", language_code="es")
    await onboard(lucia, "✓ Español", "Madrid")
    await lucia.send("/add")
    await lucia.press("ACE")
    await lucia.press("ACE-CPT")
    assert "15/3/25" in lucia.last_text
    await lucia.send("4/5/27")  # 4 May 2027, day first
    await lucia.press("Omitir")
    assert "Vencimiento: 4 de mayo de 2027" in lucia.last_text
    assert "RCP/DEA" in lucia.last_text and "CPR/AED" not in lucia.last_text
    await lucia.press("« Atrás")  # back to the number, then forward again
    await lucia.send("ACE-778")
    assert "ACE-778" in lucia.last_text
    await lucia.press("✅ Guardar")
    assert "Guardado: ACE-CPT." in lucia.inbox[-2]["text"]

    await lucia.send("/credentials")
    assert "ACE-CPT" in lucia.last_text and "2027" in lucia.last_text
    await lucia.press("ACE-CPT")
    assert "ACE-778" in lucia.last_text
    [held] = await bot.db.run(lambda s: credentials.held_by(s, lucia.id, bot.catalog))
    assert held.credential.cycle_end == date(2027, 5, 4)
    assert held.credential.number == "ACE-778"
