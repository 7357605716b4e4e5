"""The status picture: every credential on one card, a glance instead of a wall of text.

Callers pass strings already translated and formatted; this module only draws. Rendering is CPU
work, so callers run it in a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

# Pillow's bundled font has no Cyrillic (it draws boxes), so DejaVu ships beside this module.
FONTS_DIR = Path(__file__).with_name("fonts")

WIDTH = 900
PAD = 48
ROW = 132
HEADER = 150

INK = "#202124"
MUTED = "#5f6368"
RULE = "#e8eaed"
TRACK = "#eceff1"


@dataclass(frozen=True)
class Tone:
    """A state's colours: `main` for the dot and the bar, `text` on the light `tint`."""

    main: str
    text: str
    tint: str


TONES = {
    "ok": Tone("#1e8e3e", "#137333", "#e6f4ea"),
    "soon": Tone("#f9ab00", "#8a5a00", "#fef7e0"),
    "grace": Tone("#fa7b17", "#b3510f", "#feefe3"),
    "expired": Tone("#d93025", "#a50e0e", "#fce8e6"),
}
NEUTRAL = Tone("#80868b", "#3c4043", "#f1f3f4")


@dataclass(frozen=True)
class CardLine:
    """One credential on the card."""

    name: str
    detail: str
    state: str
    tone: str  # "ok" | "soon" | "grace" | "expired"; anything else is drawn grey
    progress: float | None  # share of the credits earned, 0..1; None without a requirement
    progress_text: str


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Loaded once per size. Threads may share it: Pillow holds the GIL while it uses a face."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONTS_DIR / name), size)


def _fit(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """The text, cut with an ellipsis where it would run past `width` (custom names are long)."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _pill(draw: ImageDraw.ImageDraw, right: int, middle: int, text: str, tone: Tone) -> int:
    """The state as a coloured pill ending at `right`; returns its left edge."""
    font = _font(19, bold=True)
    dot, gap, pad_x, height = 10, 10, 16, 36
    text = _fit(text, font, WIDTH / 2 - PAD)
    width = pad_x + dot + gap + round(font.getlength(text)) + pad_x
    left, top = right - width, middle - height // 2
    draw.rounded_rectangle((left, top, right, top + height), radius=height // 2, fill=tone.tint)
    x = left + pad_x
    draw.ellipse((x, middle - dot // 2, x + dot, middle + dot // 2), fill=tone.main)
    draw.text((x + dot + gap, middle), text, font=font, fill=tone.text, anchor="lm")
    return left


def _bar(
    draw: ImageDraw.ImageDraw, left: int, right: int, middle: int, share: float, tone: Tone
) -> None:
    height = 12
    top, bottom = middle - height // 2, middle + height // 2
    draw.rounded_rectangle((left, top, right, bottom), radius=height // 2, fill=TRACK)
    share = min(max(share, 0.0), 1.0)
    if share > 0:
        # Never narrower than its own height, so a sliver still shows as a round dot.
        end = max(left + round((right - left) * share), left + height)
        draw.rounded_rectangle((left, top, end, bottom), radius=height // 2, fill=tone.main)


def _line(draw: ImageDraw.ImageDraw, top: int, line: CardLine, bar_right: int) -> None:
    tone = TONES.get(line.tone, NEUTRAL)
    right = WIDTH - PAD
    pill_left = _pill(draw, right, top + 38, line.state, tone)
    name_font = _font(27, bold=True)
    name = _fit(line.name, name_font, pill_left - 20 - PAD)
    draw.text((PAD, top + 38), name, font=name_font, fill=INK, anchor="lm")
    detail_font = _font(20)
    detail = _fit(line.detail, detail_font, right - PAD)
    draw.text((PAD, top + 74), detail, font=detail_font, fill=MUTED, anchor="lm")
    small, middle = _font(18), top + 106
    if line.progress is None:
        text = _fit(line.progress_text, small, right - PAD)
        draw.text((PAD, middle), text, font=small, fill=MUTED, anchor="lm")
        return
    text = _fit(line.progress_text, small, right - bar_right - 20)
    draw.text((right, middle), text, font=small, fill=INK, anchor="rm")
    _bar(draw, PAD, bar_right, middle, line.progress, tone)


def status_card(title: str, subtitle: str, lines: Sequence[CardLine]) -> bytes:
    """A PNG, WIDTH wide, one row per credential; the height grows with the rows."""
    height = HEADER + ROW * len(lines) + PAD // 2 + 8
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    title_font, subtitle_font = _font(36, bold=True), _font(21)
    draw.text(
        (PAD, 66), _fit(title, title_font, WIDTH - 2 * PAD), font=title_font, fill=INK, anchor="ls"
    )
    draw.text(
        (PAD, 104),
        _fit(subtitle, subtitle_font, WIDTH - 2 * PAD),
        font=subtitle_font,
        fill=MUTED,
        anchor="ls",
    )
    # One column for "1.5 of 2 CEU" across the card, so the bars line up.
    widest = max(
        (_font(18).getlength(line.progress_text) for line in lines if line.progress is not None),
        default=0,
    )
    bar_right = WIDTH - PAD - 20 - round(min(widest, WIDTH / 3))
    for index, line in enumerate(lines):
        top = HEADER + ROW * index
        draw.line((PAD, top, WIDTH - PAD, top), fill=RULE, width=2)
        _line(draw, top + 4, line, bar_right)
    # A palette of 128 colours is indistinguishable here (flat fills, anti-aliased text) and
    # about a third of the size of full colour.
    palette = image.quantize(128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()
