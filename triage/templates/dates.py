"""Dates written out in words, in English and Welsh (pure).

Residents read "by Tuesday 5 January 2027", never "2027-01-05": a numeric date
is ambiguous to some and unreadable by a screen reader to others.
"""

from __future__ import annotations

from datetime import date

WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "cy": ("dydd Llun", "dydd Mawrth", "dydd Mercher", "dydd Iau", "dydd Gwener", "dydd Sadwrn", "dydd Sul"),
}
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "cy": ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi", "Hydref",
           "Tachwedd", "Rhagfyr"),
}


def date_in_words(day: date, language: str) -> str:
    """`Tuesday 5 January 2027` / `dydd Mawrth 5 Ionawr 2027`."""
    return f"{WEEKDAYS[language][day.weekday()]} {day.day} {MONTHS[language][day.month - 1]} {day.year}"
