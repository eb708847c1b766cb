"""Typed letters drawn with Pillow, as a resident would post them, plus the scanner's noise.

Shared by the post tests and `bench/bench_ocr.py`. Each `LetterSpec` knows its own
text (`spec.text()`), so OCR can be scored against the truth with an edit distance.
"""

from __future__ import annotations

import io
import random
import textwrap
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class LetterSpec:
    name: str
    address: tuple[str, ...]
    date: str
    paragraphs: tuple[str, ...]
    subject: str | None = None
    salutation: str = "Dear Sir or Madam,"
    closing: str = "Yours faithfully,"
    recipient: tuple[str, ...] = ("Customer Services", "Example Borough Council", "Civic Centre", "High Street",
                                  "Exampleton", "EX1 1AA")
    wrap: int = 68
    """Characters per body line (a typed letter's measure at 11 pt)."""

    def blocks(self) -> list[tuple[str, list[str]]]:
        """The letter as (alignment, lines) blocks, top to bottom."""
        body: list[tuple[str, list[str]]] = [("right", [self.name, *self.address]), ("right", [self.date]),
                                             ("left", list(self.recipient)), ("left", [self.salutation])]
        if self.subject:
            body.append(("left", [self.subject]))
        body += [("left", textwrap.wrap(p, self.wrap)) for p in self.paragraphs]
        body += [("left", [self.closing]), ("left", [self.name])]
        return body

    def text(self) -> str:
        return "\n\n".join("\n".join(lines) for _, lines in self.blocks())


ENGLISH_BIN = LetterSpec(
    name="Mrs Margaret Ellison",
    address=("14 Orchard Close", "Little Markham", "Exampleton", "EX4 7QT"),
    date="12 March 2025",
    subject="Re: Missed bin collection, account 4410 2298",
    paragraphs=(
        "I am writing because my green garden waste bin has not been emptied for the last three weeks. "
        "The crew came down the road on Tuesday but went straight past my house, and the same thing happened "
        "the fortnight before.",
        "I have paid for the garden waste service for this year and would like to know when the bin will be "
        "collected. Please could you also tell me whether my address is missing from the round.",
        "You can email me at m.ellison@example.org or ring my mobile on 07400 900123 during the day.",
    ),
)

ENGLISH_NO_CONTACT = LetterSpec(
    name="Mr Arthur Penhaligon",
    address=("Flat 3, Rosebank House", "27 Station Road", "Exampleton", "EX2 9LD"),
    date="3rd February 2025",
    subject="Council Tax reference 88123456",
    paragraphs=(
        "I moved into this flat on the first of January and I have received a Council Tax bill in the name "
        "of the previous tenant. I live here alone and I believe I am entitled to the single person discount.",
        "I do not use the internet, so please write to me at the address above with the correct bill.",
    ),
    closing="Yours sincerely,",
)

WELSH_LIBRARY = LetterSpec(
    name="Mr Dafydd ap Gruffydd",
    address=("Bryn Awel", "5 Heol y Bont", "Llanfair", "LL55 4RT"),
    date="14 Mawrth 2025",
    subject="Ynghylch: adnewyddu llyfrau'r llyfrgell",
    salutation="Annwyl Syr neu Fadam,",
    paragraphs=(
        "Rwy'n ysgrifennu atoch chi i ofyn a oes modd adnewyddu'r llyfrau a fenthycais o lyfrgell y dref fis "
        "diwethaf. Mae'n ddrwg gen i ond dydw i ddim yn gallu defnyddio'r wefan.",
        "Byddwn yn ddiolchgar pe gallech chi anfon llythyr ataf yn Gymraeg gyda'r dyddiad newydd.",
    ),
    closing="Yn gywir,",
)

PAGE_TWO = LetterSpec(
    name="Mrs Margaret Ellison",
    address=("14 Orchard Close", "Little Markham", "Exampleton", "EX4 7QT"),
    date="12 March 2025",
    paragraphs=(
        "Further to the above, I enclose the collection calendar you sent me last year, which shows my road "
        "on the Tuesday round. My neighbours at numbers 12 and 16 have had their bins emptied as normal.",
    ),
    salutation="Page two",
)


@dataclass(frozen=True)
class Noise:
    """What a cheap scanner and a tired original do to a page."""

    angle: float = 0.0
    """Degrees the page sits crooked on the glass."""
    speckle: float = 0.0
    """Share of pixels flipped to black or white (dust, toner)."""
    contrast: float = 1.0
    """1 is black on white; 0.5 is grey on grey."""
    blur: float = 0.0
    seed: int = 7
    extra: dict = field(default_factory=dict)


CLEAN = Noise()
NOISY = Noise(angle=2.5, speckle=0.004, contrast=0.55, blur=0.6)


def draw_letter(spec: LetterSpec, *, dpi: int = 200, font: str = "DejaVuSerif.ttf", size_pt: float = 11,
                page_mm: tuple[float, float] = (210, 297)) -> Image.Image:
    """The letter typed on an A4 page (grey-scale), margins of 25 mm."""
    px = dpi / MM_PER_INCH
    page = Image.new("L", (round(page_mm[0] * px), round(page_mm[1] * px)), 255)
    typeface = ImageFont.truetype(FONT_DIR + font, round(size_pt / 72 * dpi))
    draw = ImageDraw.Draw(page)
    line_height = round(size_pt / 72 * dpi * 1.45)
    left, right, y = round(25 * px), page.width - round(25 * px), round(20 * px)
    for align, lines in spec.blocks():
        for line in lines:
            x = right - draw.textlength(line, font=typeface) if align == "right" else left
            draw.text((x, y), line, font=typeface, fill=0)
            y += line_height
        y += line_height // 2 + line_height // 3
    return page


def add_noise(page: Image.Image, noise: Noise) -> Image.Image:
    """Low contrast, blur, a crooked page and speckle, in the order a scan picks them up."""
    rng = random.Random(noise.seed)
    low = round(255 * (1 - noise.contrast) * 0.55)
    high = 255 - round(255 * (1 - noise.contrast) * 0.35)
    out = page.point(lambda v: low + (high - low) * v // 255)
    if noise.blur:
        out = out.filter(ImageFilter.GaussianBlur(noise.blur))
    if noise.angle:
        out = out.rotate(noise.angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=high)
    if noise.speckle:
        pixels = out.load()
        for _ in range(int(out.width * out.height * noise.speckle)):
            x, y = rng.randrange(out.width), rng.randrange(out.height)
            pixels[x, y] = rng.choice((low, 40, 255))
    return out


def encode(pages: list[Image.Image], fmt: str, dpi: int = 200) -> bytes:
    """The pages as one file: PNG or JPEG (first page), TIFF (multi-page), PDF (image-only)."""
    buffer = io.BytesIO()
    first, rest = pages[0], pages[1:]
    if fmt == "TIFF":
        first.save(buffer, "TIFF", save_all=True, append_images=rest, dpi=(dpi, dpi), compression="tiff_lzw")
    elif fmt == "PDF":
        first.save(buffer, "PDF", save_all=True, append_images=rest, resolution=dpi)
    elif fmt == "JPEG":
        first.save(buffer, "JPEG", quality=80, dpi=(dpi, dpi))
    else:
        first.save(buffer, fmt, dpi=(dpi, dpi))
    return buffer.getvalue()


def text_pdf(spec: LetterSpec) -> bytes:
    """The letter as a born-digital PDF (a text layer, no pixels to OCR), as a word processor saves it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "TestSerif" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("TestSerif", FONT_DIR + "DejaVuSerif.ttf"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setFont("TestSerif", 11)
    y = A4[1] - 20 * mm
    for align, lines in spec.blocks():
        for line in lines:
            if align == "right":
                pdf.drawRightString(A4[0] - 25 * mm, y, line)
            else:
                pdf.drawString(25 * mm, y, line)
            y -= 16
        y -= 10
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def encrypted_pdf(password: str = "secret") -> bytes:
    """A PDF that cannot be opened without a password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(ENGLISH_NO_CONTACT))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def cer(read: str, truth: str) -> float:
    """Character error rate: edit distance over the typed text's length, line by line, in any order.

    Tesseract reads a letter's left column (the council's address, the
    salutation) before the right one (the sender's address and the date) when
    they sit side by side: that is layout, not misreading, so each typed line
    is scored against the read line closest to it, and read lines left over
    (speckle read as text, a line split in two) count in full as insertions.
    """
    truth_lines = [" ".join(line.split()) for line in truth.splitlines() if line.strip()]
    read_lines = [" ".join(line.split()) for line in read.splitlines() if line.strip()]
    errors = 0
    unmatched = []
    for line in truth_lines:  # identical lines first: most of a good page, and free to match
        if line in read_lines:
            read_lines.remove(line)
        else:
            unmatched.append(line)
    pairs = sorted((edit_distance(t, r), i, j) for i, t in enumerate(unmatched) for j, r in enumerate(read_lines))
    used_truth, used_read = set(), set()
    for distance, i, j in pairs:
        if i not in used_truth and j not in used_read:
            used_truth.add(i)
            used_read.add(j)
            errors += distance
    errors += sum(len(t) for i, t in enumerate(unmatched) if i not in used_truth)
    errors += sum(len(r) for j, r in enumerate(read_lines) if j not in used_read)
    return errors / max(sum(len(line) for line in truth_lines), 1)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1), two rows at a time."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]
