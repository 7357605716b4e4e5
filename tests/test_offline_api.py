"""The offline Bot API refuses what Telegram refuses, so the tests catch what users would."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TimedOut
from telegram.ext import ExtBot

from bot.offline import OFFLINE_TOKEN, OfflineBotAPI, Person


@pytest.fixture
async def setup() -> tuple[ExtBot[None], OfflineBotAPI, Person]:
    api = OfflineBotAPI()
    bot: ExtBot[None] = ExtBot(OFFLINE_TOKEN, request=api, get_updates_request=api)
    await bot.initialize()
    return bot, api, Person(api, 55, "Tess")


async def test_messages_are_kept_as_the_person_sees_them(setup) -> None:  # type: ignore[no-untyped-def]
    bot, api, tess = setup
    sent = await bot.send_message(55, "<b>Bold</b> &amp; plain", parse_mode="HTML")
    assert sent.chat.type == "private" and sent.from_user.id == api.bot_user["id"]
    assert tess.last_text == "Bold & plain"
    edited = await bot.edit_message_text("Changed", chat_id=55, message_id=sent.message_id)
    assert edited.text == "Changed" and tess.last_text == "Changed"
    assert await bot.delete_message(55, sent.message_id)
    assert tess.inbox == []


async def test_what_telegram_refuses(setup) -> None:  # type: ignore[no-untyped-def]
    bot, _api, tess = setup
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(55, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)empty"):
        await bot.send_message(55, "  ")
    with pytest.raises(BadRequest, match=r"(?i)parse entities"):
        await bot.send_message(55, "a < b", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)parse entities"):
        await bot.send_message(55, "<b>open", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(
            55,
            "hi",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("x", callback_data="x" * 65)]]
            ),
        )
    sent = await bot.send_message(55, "same")
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("same", chat_id=55, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "nobody")
    tess.block_bot()
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(55, "hello?")


async def test_injected_faults_and_files(setup) -> None:  # type: ignore[no-untyped-def]
    bot, api, _tess = setup
    api.faults["sendMessage"] = [TimedOut()]
    with pytest.raises(TimedOut):
        await bot.send_message(55, "first try")
    assert (await bot.send_message(55, "second try")).text == "second try"

    png = (
        b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + (64).to_bytes(4, "big") + (32).to_bytes(4, "big")
    )
    photo = await bot.send_photo(55, png, caption="card")
    assert (photo.photo[-1].width, photo.photo[-1].height) == (64, 32)
    file = await bot.get_file(photo.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == png
    document = await bot.send_document(55, b"%PDF-1.4", filename="cert.pdf")
    assert document.document.file_name == "cert.pdf"
    # Sending the same file again by its id, as the bot does with proofs.
    again = await bot.send_document(55, document.document.file_id)
    assert again.document.file_unique_id == document.document.file_unique_id
