"""Certificates made to order, in English, Spanish and Russian, for the tests and bench/ocr.py:
as images (several layouts and fonts; clean, rotated, blurred, JPEG-compressed, unevenly lit),
as PDFs with text, and as scanned PDFs (an image inside).

What is drawn is known, so what the bot reads can be checked field by field.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = Path(__file__).resolve().parent.parent / "handlers" / "fonts"
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")


@dataclass(frozen=True)
class Spec:
    """What a certificate says."""

    language: str
    title: str
    completed_on: date
    units: Decimal
    unit_word: str  # as printed: "CEU", "CECs", "horas de contacto", ...
    kind: str  # what it means: "ceu", "cec" or "hours"
    provider: str
    body: str
    code: str | None = None
    person: str = "Ana Example"
    duration_hours: int | None = None  # printed as a duration, never to be read as a date
    expires_on: date | None = None  # a renewal card's


MONTHS = {
    "en": [
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ],
    "es": [
        "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
        "septiembre", "octubre", "noviembre", "diciembre",
    ],
    "ru": [
        "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
        "сентября", "октября", "ноября", "декабря",
    ],
}  # fmt: skip


def spoken(value: date, language: str) -> str:
    month = MONTHS[language][value.month - 1]
    if language == "en":
        return f"{value.day} {month} {value.year}"
    if language == "es":
        return f"{value.day} de {month} de {value.year}"
    return f"{value.day} {month} {value.year} г."


def number(value: Decimal, language: str) -> str:
    text = f"{value:f}"
    return text.replace(".", ",") if language != "en" else text


def lines_of(spec: Spec) -> list[str]:
    """The certificate's text, line by line, as the language writes it."""
    amount = f"{number(spec.units, spec.language)} {spec.unit_word}"
    when = spoken(spec.completed_on, spec.language)
    if spec.expires_on is not None:
        expiry = spoken(spec.expires_on, spec.language)
        return {
            "en": [f"{spec.body}", spec.title, spec.person, f"Expires: {expiry}"],
            "es": [f"{spec.body}", spec.title, spec.person, f"Vence: {expiry}"],
            "ru": [f"{spec.body}", spec.title, spec.person, f"Действителен до: {expiry}"],
        }[spec.language]
    code = spec.code
    if spec.language == "en":
        lines = [
            "CERTIFICATE OF COMPLETION",
            "This certifies that",
            spec.person,
            "has successfully completed",
            spec.title,
            f"Date of completion: {when}",
            f"Awarded: {amount}",
            f"Provider: {spec.provider}",
            f"Approved by {spec.body}",
        ]
        if spec.duration_hours:
            lines.insert(6, f"Duration: {spec.duration_hours} hours")
        if code:
            lines.append(f"Course code: {code}")
    elif spec.language == "es":
        lines = [
            "CERTIFICADO DE FINALIZACIÓN",
            "Se certifica que",
            spec.person,
            "ha completado con éxito el curso",
            spec.title,
            f"Fecha de finalización: {when}",
            f"Créditos: {amount}",
            f"Proveedor: {spec.provider}",
            f"Aprobado por {spec.body}",
        ]
        if spec.duration_hours:
            lines.insert(6, f"Duración: {spec.duration_hours} horas")
        if code:
            lines.append(f"Código del curso: {code}")
    else:
        lines = [
            "СЕРТИФИКАТ",
            "Настоящим подтверждается, что",
            spec.person,
            "успешно прошла курс",
            spec.title,
            f"Дата окончания: {when}",
            f"Объём: {amount}",
            f"Организатор: {spec.provider}",
            f"Одобрено {spec.body}",
        ]
        if spec.duration_hours:
            lines.insert(6, f"Продолжительность: {spec.duration_hours} часов")
        if code:
            lines.append(f"Код курса: {code}")
    return lines


SAMPLES = {
    "en": Spec(
        "en",
        "Corrective Exercise Fundamentals",
        date(2025, 3, 15),
        Decimal("0.5"),
        "CEU",
        "ceu",
        "Fit Academy",
        "NASM",
        code="NASM-4821",
        duration_hours=5,
    ),
    "es": Spec(
        "es",
        "Fundamentos del entrenamiento funcional",
        date(2025, 2, 7),
        Decimal("2.0"),
        "CEC",
        "cec",
        "Academia Movimiento",
        "ACE",
        code="ACE-77120",
        person="Lucía Ejemplo",
        duration_hours=15,
    ),
    "ru": Spec(
        "ru",
        "Основы силовой подготовки",
        date(2025, 4, 21),
        Decimal("1.5"),
        "\u0421\u0415U",  # Cyrillic Es and Ie, as Russian certificates often print "CEU"
        "ceu",
        "Фитнес Академия",
        "NSCA",
        code="NS-2025-77",
        person="Ольга Пример",
        duration_hours=12,
    ),
}


def sample(language: str, **changes: object) -> Spec:
    return replace(SAMPLES[language], **changes)  # type: ignore[arg-type]


# -- images --------------------------------------------------------------------------------


def draw(spec: Spec, layout: int = 0, font: int = 0, width: int = 1600) -> Image.Image:
    """The certificate as a clean white page. Layouts: 0 centred, 1 left-aligned with a frame,
    2 landscape with a coloured band."""
    return draw_lines(lines_of(spec), layout, font, width)


def draw_lines(lines: list[str], layout: int = 0, font: int = 0, width: int = 1600) -> Image.Image:
    height = int(width * (0.72 if layout == 2 else 1.3))
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)
    size = width // 36
    face = ImageFont.truetype(str(FONTS / FONT_FILES[font % len(FONT_FILES)]), size)
    big = ImageFont.truetype(str(FONTS / FONT_FILES[1]), int(size * 1.4))
    if layout == 1:
        pen.rectangle((20, 20, width - 20, height - 20), outline=(40, 60, 120), width=6)
    if layout == 2:
        pen.rectangle((0, 0, width, size * 3), fill=(200, 225, 245))
    y = size * (4 if layout == 2 else 3)
    for number_, line in enumerate(lines):
        use = big if number_ == 0 else face
        box = pen.textbbox((0, 0), line, font=use)
        x = (width - (box[2] - box[0])) // 2 if layout != 1 else size * 2
        pen.text((x, y), line, fill=(20, 20, 30), font=use)
        y += int(size * (2.0 if layout != 2 else 1.6))
    return image


def rotated(image: Image.Image, degrees: float) -> Image.Image:
    return image.rotate(degrees, expand=True, fillcolor="white", resample=Image.Resampling.BICUBIC)


def blurred(image: Image.Image, radius: float = 1.6) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def unevenly_lit(image: Image.Image) -> Image.Image:
    """A shadow from one corner, as a phone held over a desk makes."""
    width, height = image.size
    shade = Image.linear_gradient("L").rotate(45, expand=True).resize((width, height))
    dark = Image.new("RGB", (width, height), (90, 80, 70))
    return Image.composite(image, dark, shade.point(lambda v: 110 + v * 145 // 255))


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def scanned_pdf(image: Image.Image) -> bytes:
    """A PDF holding only a picture of the page, as a scanner makes."""
    out = io.BytesIO()
    image.convert("RGB").save(out, "PDF", resolution=150)
    return out.getvalue()


# -- a PDF with text -----------------------------------------------------------------------


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text is real text (Helvetica, one line each). Characters beyond
    ASCII get their own codes, named by Unicode glyph names (uniXXXX) in the font's encoding,
    which is how a reader maps them back; this is enough for text extraction."""
    codes: dict[str, int] = {}
    for char in "".join(lines):
        if ord(char) > 126 and char not in codes:
            codes[char] = 128 + len(codes)
    if len(codes) > 127:
        raise ValueError("too many distinct characters for one simple font")

    def encoded(line: str) -> bytes:
        raw = bytes(codes.get(c, ord(c)) for c in line)
        return (
            b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
        )

    stream = b"BT /F1 14 Tf 16 TL 60 780 Td\n"
    for line in lines:
        stream += encoded(line) + b" Tj T*\n"
    stream += b"ET"
    data = zlib.compress(stream)
    differences = " ".join(f"{code} /uni{ord(char):04X}" for char, code in codes.items())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
        b"/BaseEncoding /WinAnsiEncoding /Differences [" + differences.encode() + b"] >> >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number_, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number_ + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()
