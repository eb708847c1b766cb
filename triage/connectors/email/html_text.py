"""HTML mail as readable text (for the classifier and staff) and as safe HTML (for display).

Many residents' mail clients send HTML only. The text keeps paragraph and
list structure and drops scripts, styles and markup; the sanitised copy keeps
formatting for staff but nothing that runs or fetches (nh3, an allow-list).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from triage.connectors.email.decode import clean

BLOCKS = frozenset({
    "address", "article", "blockquote", "dd", "div", "dl", "dt", "fieldset", "figure", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
    "table", "tr", "ul",
})
HIDDEN = frozenset({"head", "script", "style", "template", "title", "noscript", "object", "svg"})
SAFE_TAGS = frozenset(nh3.ALLOWED_TAGS - {"img", "area", "map"})
"""nh3's allow-list without images: a remote image in a resident's mail is a read receipt for the sender."""
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_SPACES = re.compile(r"[ \t\u00a0\u200b\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.chunks.append("\n")
        elif tag == "li":
            self.chunks.append("\n- ")
        elif tag in ("td", "th"):
            self.chunks.append(" ")
        elif tag in BLOCKS:
            self.chunks.append("\n\n" if tag in ("p", "table", "blockquote", "pre") else "\n")
        if tag == "pre":
            self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCKS and tag != "li":  # the next item starts its own line
            self.chunks.append("\n")
        if tag == "pre":
            self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        self.chunks.append(data if self.pre else _SPACES.sub(" ", data.replace("\n", " ")))


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body (never raises; falls back to stripping tags)."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
        text = "".join(extractor.chunks)
    except Exception:  # html.parser gives up on some malformed markup
        text = re.sub(r"<[^>]*>", " ", html)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return clean(_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip())


def sanitise_html(html: str) -> str:
    """HTML safe to show to staff: no scripts, handlers, forms or remote-fetching tricks."""
    try:
        return clean(nh3.clean(html, tags=set(SAFE_TAGS), url_schemes=set(SAFE_SCHEMES)))
    except Exception:  # nh3 rejects nothing in practice; never lose the message over it
        return ""
