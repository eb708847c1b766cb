"""The name a reply greets the resident by, when the message gave one we can trust to be a person's.

A wrong greeting is worse than a plain one ("Dear Customer Services Team,"), so
anything that does not look like a person's name falls back to "Dear resident".
"""

from __future__ import annotations

import re

_NAME_WORD = re.compile(r"^[^\W\d_]+(?:[-'’.][^\W\d_]*)*\.?$")
NOT_A_PERSON = frozenset({
    "admin", "administrator", "council", "customer", "customers", "department", "dept", "enquiries", "help",
    "helpdesk", "info", "limited", "ltd", "mailer", "no-reply", "noreply", "office", "plc", "postmaster",
    "reception", "resident", "service", "services", "support", "team", "the", "unknown",
})


def salutation_name(display_name: str | None) -> str | None:
    """`display_name` tidied for "Dear …", or None when it may not be a person's name.

    One to four words of letters (hyphens, apostrophes and initials allowed), none of
    them an organisation or role word; a name in all capitals or all lower case is put in title case.
    """
    if not display_name:
        return None
    words = display_name.strip().strip("\"'").split()
    if not 1 <= len(words) <= 4 or len(" ".join(words)) > 40:
        return None
    if any(not _NAME_WORD.match(word) or word.lower().strip(".") in NOT_A_PERSON for word in words):
        return None
    if all(word.isupper() for word in words) or all(word.islower() for word in words):
        words = [word.title() if len(word.strip(".")) > 1 else word for word in words]
    return " ".join(words)
