"""Dates as datelines print them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from crawler.extract.datelines import find_dateline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("By Jo | 13 Oct 2020 18:29 | Exclusives", datetime(2020, 10, 13, 18, 29)),
        ("Oct. 13, 2020 at 4:38 PM", datetime(2020, 10, 13, 16, 38)),
        ("13.10.2020, 18:29 Uhr", datetime(2020, 10, 13, 18, 29)),
        ("Familie | 17/02/2022 | Ihre Tochter", date(2022, 2, 17)),
        ("02/17/2022", date(2022, 2, 17)),
        ("03/04/2020", None),  # day and month could be swapped
        ("2020年10月13日", date(2020, 10, 13)),
        (", 20 septembrie 2020 16:20 | Unica.md", datetime(2020, 9, 20, 16, 20)),
        ("17 de Febrero 2020", date(2020, 2, 17)),
        ("13. Oktober 2021", date(2021, 10, 13)),
        ("14 марта 2020", date(2020, 3, 14)),
        ("29 oktyabr 2025 10:40", datetime(2025, 10, 29, 10, 40)),
        ("3 ott 2020", date(2020, 10, 3)),
        ("2023-11-08", date(2023, 11, 8)),
        ("31 February 2020", None),
        ("Published in 2020", None),
        ("News24 | 13 Jan 2020, 22:11 GMT+10 | Text",
         datetime(2020, 1, 13, 22, 11, tzinfo=timezone(timedelta(hours=10)))),
    ],
)  # fmt: skip
def test_complete_dates_are_read(text: str, expected: date | None) -> None:
    assert find_dateline(text) == expected


def test_the_first_date_in_the_text_wins() -> None:
    assert find_dateline("Updated 2 March 2021, first 1 March 2021") == date(2021, 3, 2)
