"""Separate what the resident wrote now from quoted reply chains, signatures and legal boilerplate.

The stored message keeps its full text; only the classifier reads the cleaned body,
so an old quoted council reply or a solicitor's disclaimer cannot decide the labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.classify.needles import could_match, needles

_QUOTE_HEADERS = [
    # Apple Mail, Gmail, Thunderbird: "On 12 Feb 2026, at 09:41, X <x@y> wrote:" (may wrap onto two lines)
    re.compile(r"^\s*On\b[^\n]{0,200}(?:\n[^\n]{0,200})?\bwrote:\s*$", re.I | re.M),
    re.compile(r"^\s*Ar\b[^\n]{0,200}(?:\n[^\n]{0,200})?\bysgrifennodd[^\n]{0,40}:\s*$", re.I | re.M),
    re.compile(r"^\s*-{2,}\s*(?:Original Message|Forwarded message|Neges wreiddiol)\s*-{2,}", re.I | re.M),
    # Outlook: a "From:" line followed closely by Sent/Date/To/Subject lines
    re.compile(r"^\s*\**(?:From|Oddi wrth|Gan)\s*:\**[^\n]*\n(?:[^\n]*\n){0,2}"
               r"\s*\**(?:Sent|Date|To|Subject|Anfonwyd|At)\s*:", re.I | re.M),
    re.compile(r"^\s*_{8,}\s*$", re.M),
]
_QUOTED_LINE = re.compile(r"^\s*>.*$\n?", re.M)
_DEVICE_FOOTER = re.compile(
    r"^\s*(?:Sent from (?:my )?(?:i\w+|Samsung[^\n]*|Galaxy[^\n]*|Android[^\n]*|Huawei[^\n]*|mobile[^\n]*|"
    r"Outlook[^\n]*|Yahoo[^\n]*|Mail for Windows[^\n]*)|Get Outlook for \w+|Anfonwyd o(?:'r| fy) [^\n]*)\s*$",
    re.I | re.M,
)
_SIGNATURE_DELIMITER = re.compile(r"^-- ?$", re.M)
_DISCLAIMER = re.compile(
    r"(?:\bconfidential\b[^\n]{0,120}\b(?:intended|privileged|addressee|recipient)"
    r"|\bintended (?:solely )?for the (?:use of the )?(?:addressee|named recipient|individual)"
    r"|\bif you (?:have received|are not the intended)"
    r"|\bauthorised and regulated by\b|\bregistered (?:in England|office|company)\b"
    r"|\bconsider the environment before printing\b|\bviews expressed\b[^\n]{0,80}\bnot necessarily\b"
    r"|\bmonitored for (?:viruses|compliance)\b|\bgall y neges e-bost hon fod yn gyfrinachol\b)",
    re.I,
)
_DISCLAIMER_NEEDS = needles(_DISCLAIMER)
"""Every disclaimer match contains one of these (in lower case): without any, no paragraph is searched
(None: always searched)."""
_VALEDICTION = re.compile(
    r"^\s*(?:kind(?:est)? regards|best regards|warm regards|regards|many thanks|thanks(?: again)?|thank you|"
    r"best wishes|best|cheers|yours (?:faithfully|sincerely|truly)|yours|sincerely|rgds|ta|"
    r"diolch(?: yn fawr)?|yn gywir|cofion(?: gorau)?|yr eiddoch yn gywir)[,.!]?\s*$",
    re.I | re.M,
)
SIGNATURE_MAX_LINES = 8
"""A block after a sign-off longer than this is more of the message, not a signature."""


@dataclass(frozen=True)
class CleanText:
    body: str
    """What the resident wrote in this message: the text the classifier reads."""
    signature: str = ""
    """Sign-off block (name, role, phone): kept apart so entities can still be found in it."""
    removed: tuple[str, ...] = ()
    """What was cut: `quoted_reply`, `device_footer`, `disclaimer`, `signature`."""


def clean_message(text: str) -> CleanText:
    """Cut quoted replies, device footers, disclaimers and the signature block, in that order."""
    removed: list[str] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")

    cut = min((m.start() for pattern in _QUOTE_HEADERS if (m := pattern.search(text)) and m.start() > 0),
              default=None)
    if cut is not None and text[:cut].strip():
        text = text[:cut]
        removed.append("quoted_reply")
    unquoted = _QUOTED_LINE.sub("", text)
    if unquoted != text and unquoted.strip():
        text = unquoted
        if "quoted_reply" not in removed:
            removed.append("quoted_reply")

    without_footer = _DEVICE_FOOTER.sub("", text)
    if without_footer != text:
        text = without_footer
        removed.append("device_footer")

    paragraphs = re.split(r"\n\s*\n", text)
    lowered = text.lower()
    kept = [p for i, p in enumerate(paragraphs) if i == 0 or not _DISCLAIMER.search(p)] \
        if could_match(_DISCLAIMER_NEEDS, lowered) else paragraphs
    if len(kept) != len(paragraphs):
        removed.append("disclaimer")
    text = "\n\n".join(kept)

    body, signature = _split_signature(text)
    if signature:
        removed.append("signature")
    return CleanText(body=body.strip(), signature=signature.strip(), removed=tuple(removed))


_OCR_WORD = re.compile(r"\b(?=[A-Za-z01]*[A-Za-z]{2})(?=[A-Za-z01]*[01])[A-Za-z01]{3,}\b")
_ORDINAL = re.compile(r"^[01]+(?:st|nd|rd|th)$", re.I)


def repair_ocr(text: str) -> str:
    """Read the digits a scanner puts inside words as the letters they stand for ("Counci1", "bi11", "0pen").

    Only words that are mostly letters are touched, so references ("T-O01177",
    "4OO23391") and ordinals ("1st") keep their digits.
    """

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        letters = sum(c.isalpha() for c in word)
        if _ORDINAL.match(word) or letters < len(word) - letters:
            return word
        return word.replace("1", "l").replace("0", "o")

    return _OCR_WORD.sub(fix, text) if "0" in text or "1" in text else text


def _split_signature(text: str) -> tuple[str, str]:
    delimiter = _SIGNATURE_DELIMITER.search(text)
    if delimiter and text[: delimiter.start()].strip():
        return text[: delimiter.start()], text[delimiter.end():]
    matches = list(_VALEDICTION.finditer(text))
    if not matches:
        return text, ""
    last = matches[-1]
    before, after = text[: last.start()], text[last.end():]
    lines = [line for line in after.splitlines() if line.strip()]
    if before.strip() and len(lines) <= SIGNATURE_MAX_LINES and all(len(line) <= 80 for line in lines):
        return before, after
    return text, ""
