"""Who wrote a letter, where they live, how else to reach them, what it refers to, and its date (pure).

Works on OCR text, so it leans on the conventions of a UK letter rather than on
exact positions: the sender's address is a short run of lines ending with a
postcode, the name is typed under the closing ("Yours sincerely", "Yn gywir"),
references follow a label ("Your ref", "Account number", "Cyfeirnod"). The
council's own address, email addresses and numbers appear on many letters (the
recipient block, "I rang 0300 ..."), so `OwnDetails` names them and they are
never taken for the writer's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from triage.connectors.contact_points import EMAIL, find_contact_points, normalise_phone
from triage.connectors.post.address import POSTCODE, find_postcode, tidy_line
from triage.message import CASE_REFERENCE, Identity, format_case_reference

MAX_ADDRESS_LINES = 7
"""Lines an address block may have, the name and the postcode line included."""
MAX_ADDRESS_LINE = 45
"""Characters beyond which a line is prose, not an address line."""

_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Rev|Revd|Sir|Dame|Lady|Lord|Capt)\.?"
_NAME_WORD = r"(?:[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*|[^\W\d_]\.?)"
_PARTICLE = r"(?:ap|ab|ferch|van|von|de|du|da|di|la|le|bin|al)"
NAME = re.compile(rf"^(?:{_TITLE}\s+)?(?:{_NAME_WORD}|{_PARTICLE})(?:\s+(?:{_PARTICLE}|{_NAME_WORD})){{0,4}}$")
TITLED = re.compile(rf"^{_TITLE}\s+\S", re.IGNORECASE)
CLOSING = re.compile(
    r"^(?:yours\s+(?:sincerely|faithfully|truly)|(?:kind|best|warm)\s+regards|regards|best\s+wishes|many\s+thanks"
    r"|thank\s+you|yn\s+gywir|yr\s+eiddoch\s+yn\s+gywir|yn\s+ddiffuant|cofion(?:\s+(?:cynnes|gorau))?)\W*$",
    re.IGNORECASE)
ORGANISATION = re.compile(
    r"\b(?:council|cyngor|county\s+hall|town\s+hall|civic\s+cent(?:re|er)|p\.?\s?o\.?\s+box|blwch\s+post"
    r"|customer\s+services|gwasanaethau\s+cwsmeriaid)\b", re.IGNORECASE)
"""Words that mark an address as an office's (ours, or another department's), not a resident's."""
SALUTATION = re.compile(r"^(?:dear|annwyl|f'?annwyl|to whom it may concern)\b", re.IGNORECASE)
SUBJECT = re.compile(r"^\s*(?:re|subject|ynghylch|parthed|pwnc)\s*[:.\-]\s*(.+?)\s*$", re.IGNORECASE)

MONTHS = {
    name: number for number, names in enumerate((
        ("january", "jan", "ionawr"), ("february", "feb", "chwefror"),
        ("march", "mar", "mawrth", "fawrth"), ("april", "apr", "ebrill"), ("may", "mai", "fai"),
        ("june", "jun", "mehefin", "fehefin"), ("july", "jul", "gorffennaf", "orffennaf"),
        ("august", "aug", "awst"), ("september", "sep", "sept", "medi", "fedi"), ("october", "oct", "hydref"),
        ("november", "nov", "tachwedd", "dachwedd"), ("december", "dec", "rhagfyr")), start=1) for name in names
}
"""English and Welsh month names (with the soft mutations "o Fawrth" brings), by number."""
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_ORDINAL = r"(?:st|nd|rd|th|af|il|ydd|ed|fed|eg|ain)?"
DATE_PATTERNS = (
    (re.compile(rf"\b(\d{{1,2}}){_ORDINAL}\s+(?:o\s+)?({_MONTH})\.?,?\s+(\d{{4}})\b", re.IGNORECASE), "dmy"),
    (re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}}){_ORDINAL},?\s+(\d{{4}})\b", re.IGNORECASE), "mdy"),
    (re.compile(r"\b(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})\b"), "numeric"),
)
YEARS = (1990, 2100)

_NUMBERED = r"(?:\s+(?:no\.?|number))?"
REFERENCE_LABEL = re.compile(
    rf"\b(?:ref(?:erence)?{_NUMBERED}|account{_NUMBERED}|pcn{_NUMBERED}|penalty\s+charge\s+notice{_NUMBERED}"
    rf"|application{_NUMBERED}|claim{_NUMBERED}|case{_NUMBERED}|cyfeirnod|rhif(?:\s+(?:cyfrif|cyfeirnod|cais))?)"
    r"\s*[:#.\-]?\s*([A-Z0-9][A-Z0-9/\-]*\d[A-Z0-9/\-]*(?:\s\d{3,})*)", re.IGNORECASE)
REFERENCE_SHAPES = (
    re.compile(r"\b\d{2}/\d{4,6}/[A-Z]{2,6}\b"),  # planning applications, e.g. 24/01234/FUL
    re.compile(r"\b[A-Z]{2}\d{8}\b"),  # penalty charge notices, e.g. EX12345678
)


@dataclass(frozen=True)
class OwnDetails:
    """The council's postcodes, email domains and phone numbers: on a letter, they are not the writer's."""

    postcodes: frozenset[str] = frozenset()
    email_domains: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()

    @classmethod
    def from_council(cls, tables: Mapping[str, object]) -> OwnDetails:
        """Everything postcode-, email- or phone-shaped anywhere in the council file."""
        postcodes, domains, phones = set(), set(), set()
        for value in _strings(tables):
            if (postcode := find_postcode(value)) and len(value) <= MAX_ADDRESS_LINE:
                postcodes.add(postcode)
            domains.update(m.group(0).rsplit("@", 1)[1].lower() for m in EMAIL.finditer(value))
            website = re.match(r"https?://(?:www\.)?([^/:]+)", value)
            if website:
                domains.add(website.group(1).lower())
            if re.fullmatch(r"[\d\s+()-]{6,}", value) and (number := normalise_phone(value)):
                phones.add(number)
        return cls(frozenset(postcodes), frozenset(domains), frozenset(phones))


@dataclass(frozen=True)
class LetterFields:
    name: str | None = None
    address: tuple[str, ...] = ()
    """The writer's address lines, postcode last (without the name)."""
    postcode: str | None = None
    contact_points: tuple[Identity, ...] = ()
    references: tuple[str, ...] = ()
    letter_date: date | None = None
    subject: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    """What could not be found, for the person reading the case."""

    def meta(self) -> dict:
        return {"postcode": self.postcode, "references": list(self.references),
                "letter_date": self.letter_date.isoformat() if self.letter_date else None,
                "notes": list(self.notes)}


def extract(text: str, own: OwnDetails = OwnDetails()) -> LetterFields:  # noqa: B008 - frozen, immutable
    lines = [" ".join(line.split()) for line in text.splitlines()]
    name = signed_name(lines)
    address = choose_address(address_blocks(lines, own), name)
    if address and name and _same_person(address[0], name):
        address = address[1:]
    elif address and not name and TITLED.match(address[0]) and _looks_like_name(address[0]):
        name, address = address[0].strip(" ,."), address[1:]
    notes = tuple(note for note, missing in (("no postal address found", not address),
                                              ("no sender name found", not name)) if missing)
    return LetterFields(
        name=name, address=tuple(tidy_line(line) for line in address),
        postcode=find_postcode(address[-1]) if address else None,
        contact_points=find_contacts(text, own), references=find_references(text),
        letter_date=find_date(lines), subject=find_subject(lines), notes=notes,
    )


def address_blocks(lines: list[str], own: OwnDetails) -> list[tuple[str, ...]]:
    """Runs of address-like lines ending in a postcode, leaving out the council's and other offices'."""
    blocks = []
    for index, line in enumerate(lines):
        postcode = _ending_postcode(line)
        if not postcode or postcode in own.postcodes:
            continue
        block = [line]
        for previous in reversed(lines[:index]):
            if len(block) >= MAX_ADDRESS_LINES:
                break
            if not previous:
                continue  # OCR often sets the postcode apart as a paragraph of its own
            if not _address_like(previous):
                break
            block.insert(0, previous)
            if TITLED.match(previous):
                break  # "Mrs J Smith" heads an address: what is above it is something else
        if not any(ORGANISATION.search(part) for part in block):
            blocks.append(tuple(block))
    return blocks


def choose_address(blocks: list[tuple[str, ...]], name: str | None) -> tuple[str, ...]:
    """The writer's address: the one headed by the name they signed with, else the first on the page."""
    for block in blocks:
        if name and _same_person(block[0], name):
            return block
    return blocks[0] if blocks else ()


def signed_name(lines: list[str]) -> str | None:
    """The name typed under the closing ("Yours sincerely", "Yn gywir")."""
    for index, line in enumerate(lines):
        if CLOSING.match(line):
            for following in [candidate for candidate in lines[index + 1:] if candidate][:3]:
                if _looks_like_name(following):
                    return following.strip(" ,.")
    return None


def find_contacts(text: str, own: OwnDetails) -> tuple[Identity, ...]:
    """Email addresses and phone numbers the writer gave, the council's left out.

    Lines are joined first (a typed number often wraps: "07400" / "900123") and
    OCR's "©" for "@", or spaces around it, are mended.
    """
    mended = re.sub(r"(?<=\w)\s*[©@]\s*(?=\w)", "@", " ".join(text.split()))
    return tuple(point for point in find_contact_points(mended)
                 if not (point.kind == "email" and point.value.rsplit("@", 1)[1] in own.email_domains)
                 and not (point.kind == "phone" and point.value in own.phones))


def find_references(text: str) -> tuple[str, ...]:
    """Case references (T-000123), labelled council references and reference-shaped codes, in order."""
    found: dict[str, None] = {}
    for match in CASE_REFERENCE.finditer(text):
        found.setdefault(format_case_reference(int(match.group(1))), None)
    for match in REFERENCE_LABEL.finditer(text):
        value = match.group(1).upper().strip("-/")
        if not CASE_REFERENCE.fullmatch(value):
            found.setdefault(value, None)
    for shape in REFERENCE_SHAPES:
        for match in shape.finditer(text):
            found.setdefault(match.group(0), None)
    return tuple(found)


def find_date(lines: list[str]) -> date | None:
    """The letter's date: the first date above the salutation, else the first anywhere."""
    cut = next((i for i, line in enumerate(lines) if SALUTATION.match(line)), len(lines))
    for part in (lines[:cut], lines[cut:]):
        for line in part:
            found = parse_date(line)
            if found:
                return found
    return None


def parse_date(text: str) -> date | None:
    for pattern, order in DATE_PATTERNS:
        for match in pattern.finditer(text):
            a, b, year = match.groups()
            if order == "dmy":
                day, month = int(a), MONTHS[b.lower()]
            elif order == "mdy":
                day, month = int(b), MONTHS[a.lower()]
            else:
                day, month = int(a), int(b)
            full_year = int(year) + 2000 if len(year) == 2 else int(year)
            try:
                found = date(full_year, month, day)
            except ValueError:
                continue
            if YEARS[0] <= found.year <= YEARS[1]:
                return found
    return None


def find_subject(lines: list[str]) -> str | None:
    for line in lines:
        match = SUBJECT.match(line)
        if match:
            return match.group(1)
    return None


def _ending_postcode(line: str) -> str | None:
    """The postcode a short line ends with (an address line), not one quoted mid-sentence."""
    stripped = line.strip(" ,.;")
    if not stripped or len(stripped) > MAX_ADDRESS_LINE:
        return None
    match = list(POSTCODE.finditer(stripped.upper()))
    if not match or match[-1].end() != len(stripped):
        return None
    return find_postcode(stripped)


def _address_like(line: str) -> bool:
    return (len(line) <= MAX_ADDRESS_LINE and "@" not in line and not _ending_postcode(line)
            and not SALUTATION.match(line) and not CLOSING.match(line) and not SUBJECT.match(line)
            and parse_date(line) is None and sum(c.isdigit() for c in line) < 7
            and not line.rstrip().endswith((":", "?", "!")))


def _looks_like_name(line: str) -> bool:
    candidate = line.strip(" ,.")
    return bool(NAME.match(candidate)) and any(word[:1].isupper() for word in candidate.split()) \
        and not CLOSING.match(candidate) and not SALUTATION.match(candidate)


def _same_person(line: str, name: str) -> bool:
    """Whether an address's first line is the writer's name (the surname is enough: "J Smith" / "Mrs Jane Smith")."""
    surname = name.split()[-1].lower()
    return not any(c.isdigit() for c in line) and surname in line.lower().split()


def _strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
