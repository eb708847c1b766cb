"""What a scan file is, judged by its bytes, and every reason one is refused.

The file name and any declared type are ignored: scanners and people name files
freely, and only the magic bytes say what a parser will be handed. Each refusal
is a `BadScan` with a short code (the post room sees it in `failed/`), raised
before any expensive work where the bytes allow.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image
from pypdf import PdfReader
from pypdf.errors import DependencyError, PdfReadError

REFUSALS = {
    "empty": "the file is empty (zero bytes)",
    "too_large": "the file is over the size limit",
    "unsupported_type": "not a PDF, TIFF, PNG or JPEG file",
    "corrupt": "the file is damaged and cannot be read",
    "encrypted": "the PDF is protected by a password",
    "too_many_pages": "the file has more pages than one letter should",
    "unreadable": "the pages could not be read",
}
"""Refusal code -> what it means, in the words the reason file uses."""

SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpeg", "image/jpeg"),
    (b"II*\x00", "tiff", "image/tiff"),
    (b"MM\x00*", "tiff", "image/tiff"),
)
PDF_MAGIC = b"%PDF-"
PDF_MAGIC_WINDOW = 1024
"""Bytes at the start of a file searched for `%PDF-` (readers allow junk before it)."""
PDF_ERRORS = (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError)
"""What pypdf raises on a damaged file (its lenient parser surfaces damage as assorted errors)."""


class BadScan(ValueError):
    """The scan cannot be taken; `code` is one of `REFUSALS`, `detail` says why in words."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        self.code = code
        self.detail = detail or REFUSALS[code]
        super().__init__(f"{code}: {self.detail}")


@dataclass(frozen=True)
class ScanFile:
    kind: str
    """pdf, tiff, png or jpeg."""
    content_type: str
    pages: int


def sniff(data: bytes) -> tuple[str, str]:
    """(kind, content type) from the magic bytes, or `BadScan("unsupported_type")`."""
    if PDF_MAGIC in data[:PDF_MAGIC_WINDOW]:
        return "pdf", "application/pdf"
    for magic, kind, content_type in SIGNATURES:
        if data.startswith(magic):
            return kind, content_type
    raise BadScan("unsupported_type")


def size_refusal(size: int, max_bytes: int) -> BadScan | None:
    """Why a file of this size is refused, if it is (judged before reading it: it may be huge)."""
    if size == 0:
        return BadScan("empty")
    if size > max_bytes:
        return BadScan("too_large", f"the file is {size} bytes; at most {max_bytes} are taken")
    return None


def inspect(data: bytes, *, max_bytes: int, max_pages: int) -> ScanFile:
    """Size, type, and whether it opens (every TIFF frame decoded, a PDF's page tree read)."""
    refusal = size_refusal(len(data), max_bytes)
    if refusal is not None:
        raise refusal
    kind, content_type = sniff(data)
    pages = count_pdf_pages(data) if kind == "pdf" else count_image_frames(data)
    if pages == 0:
        raise BadScan("corrupt", "the file has no pages")
    if pages > max_pages:
        raise BadScan("too_many_pages", f"the file has {pages} pages; at most {max_pages} are read "
                                        "(scan each letter as its own file)")
    return ScanFile(kind, content_type, pages)


def open_pdf(data: bytes) -> PdfReader:
    """The PDF, decrypted when it only has an owner password; refused when a password is needed to read it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            locked = reader.is_encrypted and not reader.decrypt("")
    except DependencyError:
        raise BadScan("encrypted", "the PDF is encrypted (AES); save it without a password and send it again") \
            from None
    except PDF_ERRORS as exc:
        raise BadScan("corrupt", f"the PDF cannot be read ({exc.__class__.__name__})") from None
    if locked:
        raise BadScan("encrypted")
    return reader


def count_pdf_pages(data: bytes) -> int:
    reader = open_pdf(data)
    try:
        return len(reader.pages)
    except PDF_ERRORS as exc:
        raise BadScan("corrupt", f"the PDF's pages cannot be read ({exc.__class__.__name__})") from None


def count_image_frames(data: bytes) -> int:
    """Frames in the image, each decoded once so a truncated file is refused now rather than mid-OCR."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Pillow's notes on damaged metadata; damage is refused
            with Image.open(io.BytesIO(data)) as image:
                frames = getattr(image, "n_frames", 1)
                for index in range(frames):
                    image.seek(index)
                    image.load()
                return frames
    except Image.DecompressionBombError:
        raise BadScan("too_large", "the image has too many pixels to be a scanned page") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise BadScan("corrupt", f"the image cannot be decoded ({exc.__class__.__name__})") from None


def open_frame(data: bytes, index: int) -> Image.Image:
    """One frame of an image file (a page of a TIFF), decoded; each caller gets its own copy."""
    with Image.open(io.BytesIO(data)) as image:
        image.seek(index)
        image.load()
        return image.copy()
