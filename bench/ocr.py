"""Reading certificates: the share of fields read right per kind of image, seconds per image
on one core, and memory while ten large photos arrive at once.

Certificates are made by `bench/certificates.py` in English, Spanish and Russian, in three
layouts and two fonts, and sent through what the bot does with a file (`handlers.reader.
read_file`, then `scheduler.certificate.understand`) as each kind:

- clean: a PNG of the page; text-pdf: a PDF with real text; scanned-pdf: a PDF of the image;
- rotated: 3 degrees, JPEG 90; blurred: Gaussian blur radius 1.6; jpeg: quality 25;
- uneven-light: a shadow across the page from one corner.

Six fields per certificate: units (amount and kind), completion date, title, provider, code,
body. A field is *right* when it is read surely and is what was printed; *asked* when it was
not read surely (the bot asks it: no harm done); *wrong* when read surely and not what was
printed (the trainer has to notice it on the card).

Memory: ten 12-megapixel JPEG photos handed to one `Reader` at once, as ten people sending
them together would; the Python process's RSS is sampled every 20 ms, Tesseract's own peak is
the children's maximum RSS.

Goals: 95 % of fields right on clean images, scanned and text PDFs; 80 % on photo-like ones
(rotated, blurred, JPEG, uneven light); at most 2 s per image on one core; while ten arrive
at once, one is read at a time and the process grows by less than 150 MB.

Run from the repository root: `python bench/ocr.py [--quick] [--json]`. About 2 minutes;
`--quick` (one layout and font per language) about 40 s. Needs Tesseract (see the README).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.certificates import (
    Spec,
    blurred,
    draw,
    jpeg,
    lines_of,
    png,
    rotated,
    sample,
    scanned_pdf,
    text_pdf,
    unevenly_lit,
)
from bench.common import Report, goal_mark, pin_to_one_cpu, rss_mb
from handlers import reader
from scheduler.certificate import Certificate, Read, understand
from storage.catalog import Catalog

TODAY = date(2026, 12, 2)
FIELDS = ("units", "date", "title", "provider", "code", "body")
KINDS: dict[str, tuple[Callable[..., bytes], bool]] = {
    "clean": (lambda image: png(image), False),
    "text-pdf": (lambda image: b"", True),  # made from the text, below
    "scanned-pdf": (lambda image: scanned_pdf(image), True),
    "rotated": (lambda image: jpeg(rotated(image, 3), 90), False),
    "blurred": (lambda image: jpeg(blurred(image), 90), False),
    "jpeg": (lambda image: jpeg(image, 25), False),
    "uneven-light": (lambda image: jpeg(unevenly_lit(image), 90), False),
}
CLEAN = ("clean", "text-pdf", "scanned-pdf")


def judged(spec: Spec, found: Certificate) -> dict[str, str]:
    """Each field: right, asked or wrong."""
    printed = {
        "units": (spec.units, spec.kind),
        "date": spec.completed_on,
        "title": spec.title,
        "provider": spec.provider,
        "code": spec.code,
        "body": spec.body,
    }
    read = {
        "units": found.units
        and Read((found.units.value.amount, found.units.value.kind), found.units.confidence),
        "date": found.completed_on,
        "title": found.title,
        "provider": found.provider,
        "code": found.code,
        "body": found.body,
    }
    verdicts = {}
    for name in FIELDS:
        value = read[name]
        if value is None or not value.sure:
            verdicts[name] = "asked"
        else:
            verdicts[name] = "right" if value.value == printed[name] else "wrong"
    return verdicts


def measure_reading(report: Report, quick: bool) -> None:
    bodies = {entry.body for entry in Catalog.load()}
    designs = [(0, 0)] if quick else [(0, 0), (1, 1), (2, 0), (0, 1), (1, 0), (2, 1)]
    report.line(
        f"{len(designs) * 3} certificates per kind (3 languages x {len(designs)} designs), "
        f"{len(FIELDS)} fields each"
    )
    report.line(f"{'kind':<14}{'right':>8}{'asked':>8}{'wrong':>8}{'s/image':>9}{'max s':>8}")
    results = {}
    for kind, (make, is_pdf) in KINDS.items():
        counts = {"right": 0, "asked": 0, "wrong": 0}
        seconds: list[float] = []
        for language in ("en", "es", "ru"):
            spec = sample(language)
            for layout, font in designs:
                image = draw(spec, layout=layout, font=font)
                data = text_pdf(lines_of(spec)) if kind == "text-pdf" else make(image)
                started = time.perf_counter()
                lines = reader.read_file(data, is_pdf, reader.languages_for(language))
                found = understand(lines, TODAY, bodies)
                seconds.append(time.perf_counter() - started)
                for verdict in judged(spec, found).values():
                    counts[verdict] += 1
        total = sum(counts.values())
        share = counts["right"] / total
        goal = 0.95 if kind in CLEAN else 0.80
        mean, worst = sum(seconds) / len(seconds), max(seconds)
        report.line(
            f"{kind:<14}{share:>7.1%}{counts['asked'] / total:>8.1%}"
            f"{counts['wrong'] / total:>8.1%}{mean:>9.2f}{worst:>8.2f}   "
            f"goal >= {goal:.0%} right: {goal_mark(share >= goal)}; "
            f"<= 2 s: {goal_mark(worst <= 2.0)}"
        )
        results[kind] = {**counts, "share_right": share, "mean_s": mean, "max_s": worst}
    report.put("kinds", results)


async def measure_memory(report: Report, photos: int) -> None:
    spec = sample("en")
    big = draw(spec, width=3000).resize((3000, 4000))  # 12 megapixels, as phones take them
    data = [jpeg(big, 90) for _ in range(photos)]
    gc.collect()
    before = rss_mb()
    peak = before
    running = 0
    most_at_once = 0
    real = reader.read_file

    def counted(*args: object) -> object:
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        try:
            return real(*args)  # type: ignore[arg-type]
        finally:
            running -= 1

    reader.read_file = counted  # type: ignore[assignment]
    the_reader = reader.Reader()
    done = asyncio.Event()

    async def sample_rss() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb())
            await asyncio.sleep(0.02)

    async def one(index: int) -> None:
        async def download() -> bytes:
            return data[index]

        await the_reader.read(1000 + index, download, False, "en")

    sampler = asyncio.create_task(sample_rss())
    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(photos)))
    elapsed = time.perf_counter() - started
    done.set()
    await sampler
    the_reader.close()
    reader.read_file = real  # type: ignore[assignment]
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    grown = peak - before
    report.line(
        f"{photos} photos of 12 MP at once: {elapsed:.1f} s in all, at most {most_at_once} read "
        f"at a time; process RSS {before:.0f} -> peak {peak:.0f} MB (+{grown:.0f} MB); "
        f"Tesseract's peak {child:.0f} MB   goal one at a time and < +150 MB: "
        f"{goal_mark(most_at_once == 1 and grown < 150)}"
    )
    report.put(
        "memory",
        {
            "photos": photos,
            "seconds": elapsed,
            "most_at_once": most_at_once,
            "rss_before_mb": before,
            "rss_peak_mb": peak,
            "tesseract_peak_mb": child,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if reader.tesseract_binary() is None:
        sys.exit("Tesseract is not installed: see the README's 'Reading certificates'.")
    report = Report("ocr")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    report.line(f"# reading certificates; {pin_to_one_cpu()}; Tesseract {_tesseract()}")
    measure_reading(report, args.quick)
    asyncio.run(measure_memory(report, args.photos))
    report.dump(args.json)


def _tesseract() -> str:
    import pytesseract

    return str(pytesseract.get_tesseract_version())


if __name__ == "__main__":
    main()
