"""A reply letter laid out on A4 for a DL window envelope (pure: blocks and council details in, PDF bytes out).

Folded in three, an A4 sheet's top third sits in a DL envelope (220 x 110 mm)
whose window is about 90 x 45 mm, 20 mm from the left and 15 mm from the
bottom: so the resident's address goes in a box 20 mm from the left edge and
47-87 mm from the top, with a few millimetres of play inside it for the sheet
moving in the envelope, and nothing else shows through. The council's own
details sit to the right of it, the letter's text below the fold line's top.
DejaVu Sans covers Welsh (ŵ, ŷ), which the PDF base fonts do not.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import BaseDocTemplate, Frame, KeepTogether, PageTemplate, Paragraph, Spacer

from triage.config import ConfigError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
"""Debian's fonts-dejavu-core (listed in .ci/system-deps.sh)."""
FONTS = {"Letter": "DejaVuSans.ttf", "Letter-Bold": "DejaVuSans-Bold.ttf"}

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
WINDOW = (20 * mm, 47 * mm, 90 * mm, 40 * mm)
"""The address box: left, top (from the top edge), width, height."""
WINDOW_PADDING = 4 * mm
"""Play inside the box, so the address stays in the window when the sheet shifts."""
DETAILS_LEFT = 125 * mm
BODY_TOP = 100 * mm
"""Where the letter's text starts on page one, below the address box and the council's details."""
GREY = Color(0.3, 0.3, 0.3)

LABELS = {
    "en": {"date": "Date", "reference": "Our reference", "phone": "Phone", "email": "Email", "page": "Page"},
    "cy": {"date": "Dyddiad", "reference": "Ein cyfeirnod", "phone": "Ffôn", "email": "E-bost", "page": "Tudalen"},
}


@dataclass(frozen=True)
class LetterBlocks:
    """What goes on the page, in the reply's language (the templates' `Letter`, as stored with the reply)."""

    language: str
    date: str
    reference: str | None
    heading: str | None
    salutation: str | None
    paragraphs: tuple[str, ...]
    closing: str | None
    signature: tuple[str, ...]
    return_address: tuple[str, ...]

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> LetterBlocks:
        def lines(key: str) -> tuple[str, ...]:
            return tuple(str(line) for line in data.get(key) or ())  # type: ignore[union-attr]

        def text(key: str) -> str | None:
            value = data.get(key)
            return str(value) if value else None

        return cls(language=str(data.get("language") or "en"), date=str(data.get("date") or ""),
                   reference=text("reference"), heading=text("heading"), salutation=text("salutation"),
                   paragraphs=lines("paragraphs"), closing=text("closing"), signature=lines("signature"),
                   return_address=lines("return_address"))


@dataclass(frozen=True)
class Letterhead:
    """The council's details printed on every letter (from the council file)."""

    name: str
    name_cy: str | None
    address: tuple[str, ...]
    phone: str | None
    email: str | None
    website: str | None

    @classmethod
    def from_council(cls, details: Mapping[str, object]) -> Letterhead:
        def optional(key: str) -> str | None:
            value = details.get(key)
            return str(value) if value else None

        return cls(name=str(details.get("name") or "The Council"), name_cy=optional("name_cy"),
                   address=tuple(str(line) for line in details.get("postal_address") or ()),  # type: ignore[union-attr]
                   phone=optional("phone"), email=optional("email"), website=optional("website"))

    def council_name(self, language: str) -> str:
        return self.name_cy if language == "cy" and self.name_cy else self.name


def register_fonts(font_dir: Path = FONT_DIR) -> None:
    """Make the letter fonts available to reportlab; a missing font is a configuration error."""
    for name, filename in FONTS.items():
        if name in pdfmetrics.getRegisteredFontNames():
            continue
        path = font_dir / filename
        if not path.is_file():
            raise ConfigError(f"letter font {path} is missing (Debian: apt-get install fonts-dejavu-core)")
        pdfmetrics.registerFont(TTFont(name, str(path)))


def render_letter_pdf(blocks: LetterBlocks, recipient: Sequence[str], letterhead: Letterhead) -> bytes:
    """The letter as PDF bytes: page one with letterhead and address box, further pages as the text needs."""
    register_fonts()
    labels = LABELS.get(blocks.language, LABELS["en"])
    council = letterhead.council_name(blocks.language)
    buffer = io.BytesIO()
    doc = BaseDocTemplate(buffer, pagesize=A4, title=blocks.heading or council, author=council,
                          subject=blocks.reference or "", creator="triage", leftMargin=MARGIN,
                          rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN)
    first = Frame(MARGIN, MARGIN + 8 * mm, PAGE_WIDTH - 2 * MARGIN, PAGE_HEIGHT - BODY_TOP - MARGIN - 8 * mm,
                  id="first", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    later = Frame(MARGIN, MARGIN + 8 * mm, PAGE_WIDTH - 2 * MARGIN, PAGE_HEIGHT - 2 * MARGIN - 18 * mm,
                  id="later", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)

    def first_page(canvas, _doc) -> None:
        _letterhead(canvas, letterhead, council, labels, blocks)
        _address_box(canvas, recipient)
        _footer(canvas, letterhead, council, labels, 1)

    def later_page(canvas, doc_) -> None:
        canvas.setFont("Letter", 9)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, PAGE_HEIGHT - MARGIN, f"{council} · {labels['reference']}: {blocks.reference or ''}")
        _footer(canvas, letterhead, council, labels, doc_.page)

    doc.addPageTemplates([PageTemplate("first", [first], onPage=first_page, autoNextPageTemplate="later"),
                          PageTemplate("later", [later], onPage=later_page)])
    doc.build(_story(blocks))
    return buffer.getvalue()


def _story(blocks: LetterBlocks) -> list:
    body = ParagraphStyle("body", fontName="Letter", fontSize=11, leading=15, spaceAfter=8)
    heading = ParagraphStyle("heading", parent=body, fontName="Letter-Bold", spaceAfter=10)
    story: list = []
    if blocks.salutation:
        story.append(Paragraph(escape(blocks.salutation), body))
    if blocks.heading:
        story.append(Paragraph(escape(blocks.heading), heading))
    story += [Paragraph(escape(p).replace("\n", "<br/>"), body) for p in blocks.paragraphs]
    sign_off = []
    if blocks.closing:
        sign_off += [Paragraph(escape(blocks.closing), body), Spacer(1, 10 * mm)]
    sign_off += [Paragraph(escape(line), ParagraphStyle("sig", parent=body, spaceAfter=0))
                 for line in blocks.signature]
    story.append(KeepTogether(sign_off))
    return story


def _letterhead(canvas, letterhead: Letterhead, council: str, labels: Mapping[str, str],
                blocks: LetterBlocks) -> None:
    top = PAGE_HEIGHT - MARGIN
    canvas.setFont("Letter-Bold", 16)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, top - 4 * mm, council)
    canvas.setStrokeColor(GREY)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, top - 8 * mm, PAGE_WIDTH - MARGIN, top - 8 * mm)
    details = [*(blocks.return_address or letterhead.address)]
    if letterhead.phone:
        details.append(f"{labels['phone']}: {letterhead.phone}")
    if letterhead.email:
        details.append(f"{labels['email']}: {letterhead.email}")
    if letterhead.website:
        details.append(letterhead.website.removeprefix("https://").removeprefix("http://"))
    y = PAGE_HEIGHT - WINDOW[1] - 3 * mm
    canvas.setFont("Letter", 9)
    canvas.setFillColor(GREY)
    for line in details:
        canvas.drawString(DETAILS_LEFT, y, line)
        y -= 4 * mm
    y -= 2 * mm
    canvas.setFillColor(Color(0, 0, 0))
    canvas.setFont("Letter", 10)
    canvas.drawString(DETAILS_LEFT, y, f"{labels['date']}: {blocks.date}")
    if blocks.reference:
        canvas.drawString(DETAILS_LEFT, y - 5 * mm, f"{labels['reference']}: {blocks.reference}")


def _address_box(canvas, recipient: Sequence[str]) -> None:
    """The resident's name and address, inside the DL window (and nothing else in it)."""
    left, top, _width, height = WINDOW
    pitch = min(4.6 * mm, (height - 2 * WINDOW_PADDING) / max(len(recipient), 1))
    canvas.setFont("Letter", 11)
    canvas.setFillColor(Color(0, 0, 0))
    y = PAGE_HEIGHT - top - WINDOW_PADDING - 11 * 0.8
    for line in recipient:
        canvas.drawString(left + WINDOW_PADDING, y, line)
        y -= pitch


def _footer(canvas, letterhead: Letterhead, council: str, labels: Mapping[str, str], page: int) -> None:
    parts = [council, *(value for value in (letterhead.website, letterhead.phone) if value)]
    canvas.setFont("Letter", 8)
    canvas.setFillColor(GREY)
    canvas.drawString(MARGIN, MARGIN - 6 * mm, " · ".join(part.removeprefix("https://") for part in parts))
    canvas.drawRightString(PAGE_WIDTH - MARGIN, MARGIN - 6 * mm, f"{labels['page']} {page}")
