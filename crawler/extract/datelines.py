"""Dates written in text, as datelines print them: "13 Oct 2020 18:29", "Oct. 13, 2020",
"13.10.2020, 18:29 Uhr", "2020-10-13", "2020年10月13日", "20 septembrie 2020".

Only complete dates (day, month and year) are read: a year alone or a month and a year say
too little to date a story. Numeric dates with slashes whose day and month could be swapped
(03/04/2020) are skipped rather than guessed.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

Parsed = datetime | date

# Month names in the languages of the news newsmon reads, twelve per line in month order;
# matched on a word's start, so inflected forms ("января", "ledna", "marca") count.
_MONTH_NAMES = (
    "jan feb mar apr may jun jul aug sep oct nov dec",
    "jän feb mrz apr mai jun jul aug sep okt nov dez",
    "ene feb mar abr may jun jul ago sep oct nov dic",
    "gen feb mar apr mag giu lug ago set ott nov dic",
    "jan fev mar abr mai jun jul ago set out nov dez",
    "ian feb mar apr mai iun iul aug sep oct noi dec",
    "january february march april may june july august september october november december",
    "januar februar märz april mai juni juli august september oktober november dezember",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "janv févr mars avr mai juin juil août sept oct nov déc",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "januari februari maart april mei juni juli augustus september oktober november december",
    "januari februari mars april maj juni juli augusti september oktober november december",
    "ianuarie februarie martie aprilie mai iunie iulie august septembrie octombrie noiembrie "
    "decembrie",
    "stycz lut marc kwie maj czerw lip sierp wrze paźdz listop grud",
    "ledna února března dubna května června července srpna září října listopadu prosince",
    "ocak şubat mart nisan mayıs haziran temmuz ağustos eylül ekim kasım aralık",
    "yanvar fevral mart aprel may iyun iyul avqust sentyabr oktyabr noyabr dekabr",
    "január február március április május június július augusztus szeptember október "
    "november december",
    "januari februari maret april mei juni juli agustus september oktober november desember",
    "январ феврал март апрел ма июн июл август сентябр октябр ноябр декабр",
    "січ лют берез квіт трав черв лип серп верес жовт листоп груд",
    "ιαν φεβ μαρ απρ μα ιουν ιουλ αυγ σεπ οκτ νοε δεκ",
)
_PREFIXES = sorted(
    {(word, month) for line in _MONTH_NAMES for month, word in enumerate(line.split(), start=1)},
    key=lambda item: -len(item[0]),
)
_MONTH_WORD = r"(?P<month>[^\W\d_]{3,}\.?)"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_DAY = r"(?P<day>[0-3]?\d)"
_TIME = (
    r"(?:[\s,|·-]*(?:at|um|à|a las|alle|às|kl\.?|o)?\s*"
    r"(?P<hour>[0-2]?\d)[:.h](?P<minute>[0-5]\d)(?::(?P<second>[0-5]\d))?\s*"
    r"(?P<ampm>[ap]\.?\s?m\.?)?"
    r"(?:\s*(?:uhr|h|hs|horas))?"
    r"(?:\s*(?:GMT|UTC)\s*(?P<offset>[+-]\d{1,2}(?::?\d{2})?))?)?"
)
_ISO = rf"\b{_YEAR}-(?P<month>[01]\d)-{_DAY}\b(?:[T ]+(?P<hour>[0-2]\d):(?P<minute>[0-5]\d))?"
_PATTERNS = [
    re.compile(_ISO),
    re.compile(rf"{_YEAR}\s*年\s*(?P<month>[01]?\d)\s*月\s*{_DAY}\s*日"),
    re.compile(rf"\b{_DAY}\.\s*(?P<month>[01]?\d)\.\s*{_YEAR}\b{_TIME}"),
    re.compile(
        rf"\b{_DAY}(?:\.|st|nd|rd|th|er|º)?\s+(?:de\s+)?{_MONTH_WORD},?\s+(?:de\s+)?{_YEAR}\b{_TIME}",
        re.IGNORECASE,
    ),
    re.compile(rf"\b{_MONTH_WORD}\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}\b{_TIME}", re.IGNORECASE),
    re.compile(rf"\b(?P<first>[0-3]?\d)/(?P<second_number>[0-3]?\d)/{_YEAR}\b{_TIME}"),
    re.compile(rf"\b{_YEAR}/(?P<month>[01]?\d)/{_DAY}\b{_TIME}"),
]  # fmt: skip


def find_dateline(text: str) -> Parsed | None:
    """The first complete date in ``text``, with its time of day (and offset) when one
    follows it; None when there is none."""
    best: tuple[int, Parsed] | None = None
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            value = _value(match)
            if value is not None:
                if best is None or match.start() < best[0]:
                    best = (match.start(), value)
                break
    return best[1] if best else None


def _value(match: re.Match[str]) -> Parsed | None:
    groups = match.groupdict()
    year = int(groups["year"])
    if groups.get("first"):
        first, second = int(groups["first"]), int(groups["second_number"])
        if first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first:
            day, month = second, first
        else:
            return None
    else:
        day = int(groups["day"])
        named = _month(groups["month"])
        if named is None:
            return None
        month = named
    try:
        day_value = date(year, month, day)
    except ValueError:
        return None
    if not groups.get("hour"):
        return day_value
    return _with_time(day_value, groups)


def _month(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    word = text.lower().rstrip(".")
    for prefix, month in _PREFIXES:
        if word.startswith(prefix):
            return month
    return None


def _with_time(day: date, groups: dict[str, str | None]) -> Parsed:
    hour, minute = int(groups["hour"] or 0), int(groups["minute"] or 0)
    ampm = (groups.get("ampm") or "").replace(".", "").replace(" ", "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    if hour > 23:
        return day
    value = datetime(day.year, day.month, day.day, hour, minute, int(groups.get("second") or 0))
    offset = groups.get("offset")
    if offset:
        sign = -1 if offset.startswith("-") else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = (
            (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
        )
        value = value.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return value
