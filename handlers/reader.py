"""Reading a certificate's text from a photo or a PDF, off the event loop.

PDFs with text: their own text (pypdf). Scanned PDFs and photos: Tesseract OCR (through
pytesseract), pages rendered with pypdfium2, images made grey, evened out for lighting and
scaled to the size Tesseract reads best. Languages: the trainer's first, then the others.

Bounds: one file is read at a time in the whole process (on two cores a second Tesseract
would only halve each one's speed), and a person has one file being read at a time; a file
is downloaded only when its turn comes, so ten arriving at once hold ten waiting tasks, not
ten decoded images. Each Tesseract run has a time limit and is killed past it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageFilter, ImageOps

from scheduler.certificate import Line

logger = logging.getLogger(__name__)

TESSERACT_LANGUAGES = {"en": "eng", "es": "spa", "ru": "rus"}
MAX_PAGES = 2  # a certificate is one page; a second holds the fine print at most
MAX_PIXELS = 40_000_000  # a 48-megapixel phone photo is drafted down before this applies
TARGET_SIDE = 2000  # longest side Tesseract gets: text of a page at about 200 dpi
MIN_SIDE = 1000  # smaller pictures are scaled up: Tesseract misses text under ~20 px high
OCR_SECONDS = 15  # per Tesseract run, past which it is killed
READ_SECONDS = 40  # the whole reading, download included
MIN_PDF_TEXT = 40  # characters: fewer, and the PDF is a scan
# Tesseract spreads one page over every core by default; one core per reading keeps the bot's
# own thread free and makes the benchmark's "seconds on one core" what it says.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


class Unavailable(Exception):
    """OCR is needed and Tesseract is not installed."""


class Unreadable(Exception):
    """Not an image or PDF we can open, or too large to decode."""


def tesseract_binary() -> str | None:
    """Where Tesseract is; None when it is not installed."""
    import pytesseract

    command: str = pytesseract.pytesseract.tesseract_cmd  # pytesseract has no types
    return shutil.which(command)


def languages_for(language: str) -> list[str]:
    """Tesseract's languages, the trainer's first."""
    first = TESSERACT_LANGUAGES.get(language, "eng")
    return [first, *(code for code in TESSERACT_LANGUAGES.values() if code != first)]


# -- the work itself (runs in a worker thread) ---------------------------------------------


def read_file(data: bytes, is_pdf: bool, languages: list[str]) -> list[Line]:
    """The text of a photo or PDF, line by line with the reader's confidence."""
    try:
        return _read_file(data, is_pdf, languages)
    except (Unavailable, Unreadable, TimeoutError, MemoryError):
        raise
    except Exception as error:
        # Anyone can send any bytes: what the PDF and image libraries make of a damaged or
        # hostile file (IndexError, struct.error, ...) is "unreadable", not a traceback.
        raise Unreadable(type(error).__name__) from error


def _read_file(data: bytes, is_pdf: bool, languages: list[str]) -> list[Line]:
    if is_pdf:
        text = pdf_text(data)
        if len("".join(text.split())) >= MIN_PDF_TEXT:
            return [Line(line) for line in text.splitlines()]
        return [line for page in pdf_pages(data) for line in ocr(page, languages)]
    return ocr(open_image(data), languages)


def pdf_text(data: bytes) -> str:
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages[:MAX_PAGES])
    except (pypdf.errors.PdfReadError, ValueError, KeyError, TypeError) as error:
        raise Unreadable(str(error)) from error


def pdf_pages(data: bytes) -> list[Image.Image]:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        raise Unreadable(str(error)) from error
    try:
        pages = []
        for index in range(min(len(document), MAX_PAGES)):
            page = document[index]
            width, height = page.get_size()
            scale = TARGET_SIDE / max(width, height, 1)
            pages.append(page.render(scale=scale, grayscale=True).to_pil())
            page.close()
        return pages
    finally:
        document.close()


def open_image(data: bytes) -> Image.Image:
    """A photo decoded at no more than the size needed: JPEG is drafted down while decoding."""
    try:
        image: Image.Image = Image.open(io.BytesIO(data))
        image.draft("L", (TARGET_SIDE, TARGET_SIDE))
        if image.size[0] * image.size[1] > MAX_PIXELS:
            raise Unreadable("too many pixels")
        image = ImageOps.exif_transpose(image)
        image.load()
    except (OSError, Image.DecompressionBombError, SyntaxError, ValueError) as error:
        raise Unreadable(str(error)) from error
    return image


def prepared(image: Image.Image) -> Image.Image:
    """Grey, lighting evened out (a shadow across the page becomes white paper again), and
    scaled so that Tesseract sees text at the height it reads best."""
    grey = image.convert("L")
    longest = max(grey.size)
    if longest > TARGET_SIDE or longest < MIN_SIDE:
        scale = (TARGET_SIDE if longest > TARGET_SIDE else MIN_SIDE) / longest
        grey = grey.resize(
            (max(1, round(grey.width * scale)), max(1, round(grey.height * scale))),
            Image.Resampling.LANCZOS,
        )
    # The paper's own brightness, from a small blurred copy; dividing by it flattens light.
    small = grey.reduce(8) if min(grey.size) >= 64 else grey
    paper = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(4))
    paper = paper.resize(grey.size, Image.Resampling.BILINEAR)
    flat = ImageChops.invert(ImageChops.subtract(paper, grey))
    return ImageOps.autocontrast(flat, cutoff=1)


def ocr(image: Image.Image, languages: list[str]) -> list[Line]:
    import pytesseract

    if tesseract_binary() is None:
        raise Unavailable
    page = prepared(image)
    try:
        data = pytesseract.image_to_data(
            page,
            lang="+".join(languages),
            config="--psm 6",  # one block of text: frames and bands around it are no "picture"
            timeout=OCR_SECONDS,
            output_type=pytesseract.Output.DICT,
        )
    except RuntimeError as error:  # pytesseract's word for its time limit
        raise TimeoutError(str(error)) from error
    except pytesseract.TesseractNotFoundError as error:
        raise Unavailable from error
    return lines_of(data)


def lines_of(data: dict[str, list[object]]) -> list[Line]:
    """Tesseract's words put back into lines, each with its words' mean confidence."""
    lines: dict[tuple[object, ...], tuple[list[str], list[float]]] = {}
    for index, word in enumerate(data["text"]):
        word = str(word).strip()
        confidence = float(str(data["conf"][index]))
        if not word or confidence < 0:
            continue
        if confidence < 35 or (len(word) == 1 and not word.isdigit() and confidence < 75):
            continue  # specks of a shadow or the page's edge read as letters
        key = (data["page_num"][index], data["block_num"][index], data["par_num"][index],
               data["line_num"][index])  # fmt: skip
        words, confidences = lines.setdefault(key, ([], []))
        words.append(word)
        confidences.append(confidence)
    return [
        Line(" ".join(words), sum(confidences) / len(confidences) / 100)
        for words, confidences in lines.values()
    ]


# -- the bounds (on the event loop) --------------------------------------------------------


@dataclass
class Reader:
    """One per application: the worker thread, the turn, and who is being read for."""

    workers: int = 1
    _executor: ThreadPoolExecutor = field(init=False)
    _turn: asyncio.Semaphore = field(init=False)
    # Per person: their lock and how many of their files hold or wait for it.
    _people: dict[int, tuple[asyncio.Lock, int]] = field(default_factory=dict, init=False)
    _told_unavailable: set[int] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="reader")
        self._turn = asyncio.Semaphore(self.workers)

    @staticmethod
    def can_ocr() -> bool:
        return tesseract_binary() is not None

    def first_time_unavailable(self, user_id: int) -> bool:
        """True the first time this person is told reading is unavailable (per process)."""
        if user_id in self._told_unavailable:
            return False
        self._told_unavailable.add(user_id)
        return True

    async def read(
        self,
        user_id: int,
        download: Callable[[], Awaitable[bytes]],
        is_pdf: bool,
        language: str,
    ) -> list[Line]:
        """Waits for this person's previous file, then for the turn; downloads; reads in the
        worker thread."""
        lock, waiting = self._people.get(user_id, (asyncio.Lock(), 0))
        self._people[user_id] = (lock, waiting + 1)
        try:
            async with lock, self._turn:
                async with asyncio.timeout(READ_SECONDS):
                    data = await download()
                    loop = asyncio.get_running_loop()
                    return await loop.run_in_executor(
                        self._executor, read_file, data, is_pdf, languages_for(language)
                    )
        finally:
            lock, waiting = self._people[user_id]
            if waiting == 1:
                del self._people[user_id]  # nothing else of theirs waiting: forget them
            else:
                self._people[user_id] = (lock, waiting - 1)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
