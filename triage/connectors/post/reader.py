"""A scan file in, the text of each page out, with how far each page's text can be trusted.

A PDF page that carries its own text layer (born digital, or already OCR'd by
the scanner) is taken as it is: re-reading it from pixels could only lose
accuracy. Every other page is rasterised (poppler's `pdftoppm`) or decoded (a
TIFF frame, a PNG or JPEG), cleaned up, and read by Tesseract. A page whose
confidence is under the threshold is first tried upside down or sideways
(Tesseract's orientation detection), then flagged for a person if still low.
Pages are read in parallel, one Tesseract process each.
"""

from __future__ import annotations

import subprocess
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Literal

from PIL import Image

from triage.config import Settings
from triage.connectors.post.cleanup import BLANK_INK, clean_page
from triage.connectors.post.files import PDF_ERRORS, BadScan, ScanFile, inspect, open_frame, open_pdf
from triage.connectors.post.ocr import OcrFailed, Recognised, Tesseract

RASTER_DPI = 300
"""Resolution a PDF page without text or a scanned image is rendered at for OCR (Tesseract's sweet spot)."""
RASTER_DPI_RANGE = (150, 400)
"""A page holding a scanned image is rendered at the image's own resolution, within these bounds:
resampling a 150 dpi scan up to 300 dpi turned its speckle into blobs and cost 10-50 % CER."""
MIN_TEXT_LAYER_CHARS = 20
"""Non-space characters a PDF page's text layer needs before it is trusted over OCR."""
A4_WIDTH_INCHES = 8.27
DPI_RANGE = (70, 1200)
"""Resolutions an image may declare and be believed; outside it the page width is assumed to be A4's."""


@dataclass(frozen=True)
class Page:
    number: int
    text: str
    source: Literal["text_layer", "ocr", "blank"]
    confidence: float | None = None
    """Mean OCR word confidence 0-100 (None for a text layer or a blank side)."""
    flagged: bool = False
    """A person should read this page from the scan: the OCR text is not to be trusted."""
    rotated: int = 0
    skew: float = 0.0
    despeckled: bool = False

    def meta(self) -> dict:
        return {key: value for key, value in asdict(self).items() if key != "text"}


@dataclass(frozen=True)
class ScanText:
    file: ScanFile
    pages: tuple[Page, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages if page.text)

    @property
    def needs_reading(self) -> bool:
        """Some page is flagged, or nothing legible was found at all."""
        return any(page.flagged for page in self.pages) or not self.text.strip()


@dataclass(frozen=True)
class PageSource:
    number: int
    text_layer: str | None
    image: Callable[[], tuple[Image.Image, int]]
    """Decodes or renders the page when asked, so pages are only in memory while being read."""


class ScanReader:
    def __init__(self, tesseract: Tesseract, *, min_confidence: float = 80.0, max_bytes: int = 50 * 1024 * 1024,
                 max_pages: int = 20, workers: int = 2, clean: bool = True) -> None:
        self.tesseract = tesseract
        self.min_confidence = min_confidence
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self.workers = max(1, workers)
        self.clean = clean
        """Off only to measure what the clean-up is worth (bench/bench_ocr.py)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ScanReader:
        tesseract = Tesseract(settings.ocr_langs)
        tesseract.check()
        return cls(tesseract, min_confidence=settings.ocr_min_confidence, max_bytes=settings.post_max_bytes,
                   max_pages=settings.post_max_pages, workers=settings.ocr_workers)

    def read(self, data: bytes) -> ScanText:
        """Every page's text; `BadScan` when the file cannot be taken."""
        scan = inspect(data, max_bytes=self.max_bytes, max_pages=self.max_pages)
        sources = pdf_pages(data, scan) if scan.kind == "pdf" else image_pages(data, scan)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="ocr") as pool:
            pages = tuple(pool.map(self._read_page, sources))
        return ScanText(scan, pages)

    def _read_page(self, source: PageSource) -> Page:
        if source.text_layer is not None:
            return Page(source.number, source.text_layer, "text_layer")
        image, dpi = source.image()
        try:
            return self._ocr_page(source.number, image, dpi)
        except OcrFailed as exc:
            raise BadScan("unreadable", f"page {source.number}: {exc}") from None

    def _ocr_page(self, number: int, image: Image.Image, dpi: int) -> Page:
        skew, ink, despeckled = 0.0, None, False
        if self.clean:
            cleaned = clean_page(image)
            image, skew, ink, despeckled = cleaned.image, cleaned.skew, cleaned.ink, cleaned.despeckled
        result, rotated = self.tesseract.recognise(image, dpi), 0
        if not self._trusted(result):
            turn = self.tesseract.orientation(image, dpi)
            if turn:
                turned = self.tesseract.recognise(image.rotate(turn, expand=True, fillcolor=255), dpi)
                if (turned.confidence or 0) > (result.confidence or 0):
                    result, rotated = turned, turn
        if result.words == 0 and ink is not None and ink < BLANK_INK:
            return Page(number, "", "blank", skew=skew)
        return Page(number, result.text, "ocr", result.confidence, flagged=not self._trusted(result),
                    rotated=rotated, skew=skew, despeckled=despeckled)

    def _trusted(self, result: Recognised) -> bool:
        return result.confidence is not None and result.confidence >= self.min_confidence


def pdf_pages(data: bytes, scan: ScanFile) -> list[PageSource]:
    reader = open_pdf(data)
    sources = []
    for index in range(scan.pages):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                text = (reader.pages[index].extract_text() or "").strip()
        except PDF_ERRORS:
            text = ""  # a damaged text layer: read the page from its pixels instead
        layer = text if len("".join(text.split())) >= MIN_TEXT_LAYER_CHARS else None
        dpi = scanned_dpi(reader.pages[index])
        sources.append(PageSource(index + 1, layer, lambda n=index + 1, d=dpi: (render_pdf_page(data, n, d), d)))
    return sources


def scanned_dpi(page) -> int:
    """The resolution of the widest image on the page (a scanner's PDF is one image per page), else RASTER_DPI."""
    try:
        objects = page["/Resources"]["/XObject"]
        widths = [int(obj.get_object().get("/Width", 0)) for obj in objects.values()
                  if obj.get_object().get("/Subtype") == "/Image"]
        page_inches = float(page.mediabox.width) / 72
    except (*PDF_ERRORS, IndexError):
        return RASTER_DPI
    if not widths or max(widths) == 0 or page_inches <= 0:
        return RASTER_DPI
    return max(RASTER_DPI_RANGE[0], min(RASTER_DPI_RANGE[1], round(max(widths) / page_inches)))


def render_pdf_page(data: bytes, number: int, dpi: int) -> Image.Image:
    """One PDF page as a grey-scale image, by poppler (which renders what pypdf merely parses)."""
    command = ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", str(number), "-l", str(number),
               "-singlefile", "-"]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise BadScan("unreadable", f"page {number} took too long to render") from None
    if done.returncode != 0 or not done.stdout:
        raise BadScan("corrupt", f"page {number} of the PDF cannot be rendered")
    return open_frame(done.stdout, 0)


def image_pages(data: bytes, scan: ScanFile) -> list[PageSource]:
    def frame(index: int) -> tuple[Image.Image, int]:
        image = open_frame(data, index)
        return image, image_dpi(image)

    return [PageSource(index + 1, None, lambda i=index: frame(i)) for index in range(scan.pages)]


def image_dpi(image: Image.Image) -> int:
    """The resolution the image declares, else the one that makes it A4 wide (phones and some scanners omit it)."""
    declared = image.info.get("dpi")
    if declared:
        try:
            dpi = round(float(declared[0]))
        except (TypeError, ValueError, IndexError):
            dpi = 0
        if DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
            return dpi
    return max(DPI_RANGE[0], min(DPI_RANGE[1], round(image.width / A4_WIDTH_INCHES)))
