"""Cities of 15,000 people or more (GeoNames, CC BY 4.0) by any of their names, to zones.

`Gazetteer.load` reads bot/geonames/cities15000.tsv.gz (tools/make_gazetteer.py derives it; its
licence is bot/geonames/LICENSE-GeoNames.txt): call it off the event loop, once. The rest is pure.
Memory stays bounded: the folded names as one bytes object (sorted, with their ends), and per
city its zone, country, population and name (see README "Performance").
"""

from __future__ import annotations

import bisect
import gzip
import re
import sys
import unicodedata
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import overload

# A candidate far smaller than the biggest city of that name is not offered: "Kazan" is the
# city of a million, not the Turkish town of 24,000 ("Kazan, Turkey" still finds the town).
_SMALLER_BY = 20
_OWN_NAME = 10


def fold(text: str) -> str:
    """Case, accents and separators folded, so `sao paulo` finds `São Paulo`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s_\-'’.,()|]+", " ", without_marks).strip()


@dataclass(frozen=True)
class Place:
    """A city found: the spelling that matched, its country (ISO code) and its zone."""

    name: str
    country: str
    zone: str
    population: int


class Names(Sequence[bytes]):
    """The folded names, sorted, as slices of one bytes object (UTF-8: its byte order is the
    order of the characters): no object per name, which kept some 50 MB more of resident
    memory than the names themselves (freed pieces the allocator does not give back)."""

    def __init__(self, blob: bytes, ends: array[int]) -> None:
        self._blob, self._ends = blob, ends  # name i is blob[ends[i - 1]:ends[i]]

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, at: int) -> bytes: ...
    @overload
    def __getitem__(self, at: slice) -> Sequence[bytes]: ...
    def __getitem__(self, at: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(at, slice):
            return [self[i] for i in range(*at.indices(len(self)))]
        if at < 0:
            at += len(self)
        if not 0 <= at < len(self):
            raise IndexError(at)
        return self._blob[self._ends[at - 1] if at else 0 : self._ends[at]]


@dataclass(frozen=True)
class Gazetteer:
    """Folded names, sorted, each with the cities it names (most populous first)."""

    keys: Names
    starts: array[int]  # key i names cities[starts[i]:starts[i + 1]]
    cities: array[int]
    zones: tuple[str, ...]  # per city, interned
    countries: tuple[str, ...]  # per city, interned
    populations: array[int]  # per city
    names: tuple[str, ...]  # per city: its GeoNames name
    own: tuple[str, ...]  # per city: that name folded
    by_own: tuple[str, ...]  # those folded names, sorted (the same strings)
    by_own_city: array[int]  # the city of each

    @classmethod
    def load(cls) -> Gazetteer:
        """Reads the shipped table (tools/make_gazetteer.py lays it out): call it off the event
        loop. The names stay one bytes object: nothing is built per name."""
        data = gzip.decompress((files("bot") / "geonames" / "cities15000.tsv.gz").read_bytes())
        head, _, index = data.partition(b"\n%%\n")
        zones: list[str] = []
        countries: list[str] = []
        populations = array("q")
        names: list[str] = []
        own: list[str] = []
        for line in head.decode("utf-8").splitlines():
            if line.startswith("#") or not line:
                continue
            zone, country, population, name, folded = line.split("\t")
            zones.append(sys.intern(zone))
            countries.append(sys.intern(country))
            populations.append(int(population))
            names.append(name)
            own.append(folded)
        blob, ends = bytearray(), array("i")
        starts, cities = array("i", [0]), array("i")
        at = 0
        while at < len(index):
            tab = index.index(b"\t", at)
            stop = index.find(b"\n", tab)
            stop = len(index) if stop < 0 else stop
            blob += index[at:tab]
            ends.append(len(blob))
            cities.extend(map(int, index[tab + 1 : stop].split()))
            starts.append(len(cities))
            at = stop + 1
        order = sorted(range(len(own)), key=own.__getitem__)
        return cls(
            Names(bytes(blob), ends),
            starts,
            cities,
            tuple(zones),
            tuple(countries),
            populations,
            tuple(names),
            tuple(own),
            tuple(own[city] for city in order),
            array("i", order),
        )

    def _named(self, at: int) -> array[int]:
        return self.cities[self.starts[at] : self.starts[at + 1]]

    def exact(self, query: str, countries: frozenset[str] = frozenset()) -> list[Place]:
        """Cities named `query` (folded), one per zone: those of that very name first, the
        biggest first; small namesakes of a big city are left out unless a country was given."""
        key = query.encode("utf-8")
        at = bisect.bisect_left(self.keys, key)
        if at == len(self.keys) or self.keys[at] != key:
            return []
        cities = [c for c in self._named(at) if not countries or self.countries[c] in countries]

        def weight(city: int) -> int:
            # A city's own name counts ten times an alias: "Zaragoza" is Spain's, not a
            # Mexican city's alias; yet "Pekín" is Beijing, not Pekin, Illinois.
            return self.populations[city] * (_OWN_NAME if self.own[city] == query else 1)

        cities.sort(key=weight, reverse=True)
        if not countries and cities:
            biggest = weight(cities[0])
            cities = [c for c in cities if weight(c) * _SMALLER_BY >= biggest]
        return self._one_per_zone(cities)

    def starting(self, query: str, limit: int) -> list[Place]:
        """Cities whose own name starts with `query` (folded), the biggest first."""
        found: set[int] = set()
        if query.isascii():  # Latin: by the city's own name ("bar" is not Berlin's "Barlin")
            at = bisect.bisect_left(self.by_own, query)
            while at < len(self.by_own) and self.by_own[at].startswith(query):
                found.add(self.by_own_city[at])  # a few hundred at most past three letters
                at += 1
        else:  # Cyrillic: any of the names, the first few hundred
            key = query.encode("utf-8")
            at = bisect.bisect_left(self.keys, key)
            end = min(at + 300, len(self.keys))
            while at < end and self.keys[at].startswith(key):
                found.update(self._named(at))
                at += 1
        ordered = sorted(found, key=lambda c: -self.populations[c])
        return self._one_per_zone(ordered)[:limit]

    def _one_per_zone(self, cities: list[int]) -> list[Place]:
        places: list[Place] = []
        for city in cities:
            if all(place.zone != self.zones[city] for place in places):
                places.append(
                    Place(
                        self.names[city],
                        self.countries[city],
                        self.zones[city],
                        self.populations[city],
                    )
                )
        return places
