"""Tesseract, called as the `tesseract` program, one process per page.

Called directly rather than through pytesseract because each call must run with
`OMP_THREAD_LIMIT=1`: Debian's Tesseract otherwise starts an OpenMP team per
page, and on two cores that measured 0.22 pages/s against 1.17 single-threaded
(1.47 with two pages at once). The TSV output gives words with their confidence,
from which both the text (lines and paragraphs kept) and the page's confidence
are built in one pass.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
from dataclasses import dataclass

from PIL import Image

from triage.config import ConfigError

PAGE_TIMEOUT_SECONDS = 180
"""Longest one page may take before it counts as unreadable (a clean A4 page takes 1-3 s)."""
OSD_MIN_CONFIDENCE = 5.0
"""Tesseract's orientation confidence needed before a page is turned (upright pages score ~25)."""
_ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}
"""The environment Tesseract runs in: ours, passed through, with OpenMP held to one thread."""


class OcrFailed(RuntimeError):
    """Tesseract could not read this page (crashed, or ran out of time)."""


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float
    block: int
    paragraph: int
    line: int


@dataclass(frozen=True)
class Recognised:
    text: str
    confidence: float | None
    """Mean word confidence (0-100) weighted by word length; None when no word was found."""
    words: int


@dataclass(frozen=True)
class Tesseract:
    langs: str = "eng+cym"
    binary: str = "tesseract"

    def check(self) -> None:
        """Refuse to start without Tesseract or one of the languages asked for."""
        try:
            listed = subprocess.run([self.binary, "--list-langs"], capture_output=True, text=True, timeout=30,
                                    env=_ENV, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            raise ConfigError("Tesseract is not installed (Debian: apt-get install tesseract-ocr)") from None
        installed = {line.strip() for line in listed.splitlines()[1:]}
        missing = [lang for lang in self.langs.split("+") if lang not in installed]
        if missing:
            raise ConfigError(f"TRIAGE_OCR_LANGS: Tesseract has no {', '.join(missing)} "
                              f"(Debian: apt-get install {' '.join('tesseract-ocr-' + m for m in missing)})")

    def recognise(self, image: Image.Image, dpi: int) -> Recognised:
        out = self._run(image, dpi, ["tsv"])
        return assemble(parse_tsv(out))

    def orientation(self, image: Image.Image, dpi: int) -> int:
        """Degrees (0, 90, 180, 270) to turn the page counter-clockwise to stand it upright; 0 when unsure."""
        try:
            out = self._run(image, dpi, [], psm="0", langs="osd")
        except OcrFailed:
            return 0  # too little text to tell: leave it as it is
        rotate = re.search(r"Rotate: (\d+)", out)
        confidence = re.search(r"Orientation confidence: ([\d.]+)", out)
        if not rotate or not confidence or float(confidence.group(1)) < OSD_MIN_CONFIDENCE:
            return 0
        return (360 - int(rotate.group(1))) % 360

    def _run(self, image: Image.Image, dpi: int, configs: list[str], *, psm: str | None = None,
             langs: str | None = None) -> str:
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=1)
        command = [self.binary, "stdin", "stdout", "-l", langs or self.langs, "--dpi", str(dpi)]
        if psm is not None:
            command += ["--psm", psm]
        try:
            done = subprocess.run(command + configs, input=buffer.getvalue(), capture_output=True,
                                  timeout=PAGE_TIMEOUT_SECONDS, env=_ENV)
        except subprocess.TimeoutExpired:
            raise OcrFailed(f"Tesseract took longer than {PAGE_TIMEOUT_SECONDS} s on one page") from None
        if done.returncode != 0:
            raise OcrFailed(f"Tesseract failed (exit {done.returncode})")
        return done.stdout.decode("utf-8", errors="replace")


def parse_tsv(tsv: str) -> list[Word]:
    """The recognised words (level 5 rows with text) from Tesseract's TSV output."""
    words = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        words.append(Word(text, max(float(row["conf"]), 0.0), int(row["block_num"]), int(row["par_num"]),
                          int(row["line_num"])))
    return words


def assemble(words: list[Word]) -> Recognised:
    """Words back into lines (one per line) and paragraphs (a blank line between), plus their confidence."""
    paragraphs: dict[tuple[int, int], dict[int, list[str]]] = {}
    for word in words:
        paragraphs.setdefault((word.block, word.paragraph), {}).setdefault(word.line, []).append(word.text)
    text = "\n\n".join("\n".join(" ".join(line) for line in lines.values()) for lines in paragraphs.values())
    chars = sum(len(w.text) for w in words)
    confidence = round(sum(len(w.text) * w.confidence for w in words) / chars, 1) if chars else None
    return Recognised(text, confidence, len(words))
