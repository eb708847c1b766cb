"""Turning the bytes and headers of real-world mail into clean text.

Mail in the wild lies about its charset, puts raw 8-bit bytes in headers and
splits multibyte characters across RFC 2047 encoded-words. Every function here
returns text (never raises on bad input) and the text is safe to store:
no NUL characters, no lone surrogates (PostgreSQL refuses both).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from email.message import Message

SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "iso-8859-9": "cp1254",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "x-sjis": "cp932", "sjis": "cp932", "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext", "tis-620": "cp874", "iso-8859-11": "cp874", "big5": "big5hkscs",
    "iso-8859-8-i": "iso-8859-8", "iso-8859-6-i": "iso-8859-6", "utf8": "utf-8",
    "us-ascii": "utf-8", "ascii": "utf-8", "ansi_x3.4-1968": "utf-8", "unknown-8bit": "utf-8",
    "x-unknown": "utf-8", "unknown": "utf-8", "default": "utf-8", "8bit": "utf-8", "x-user-defined": "utf-8",
}
"""Charsets that senders name but really mean a superset of (the WHATWG encoding rules, in short)."""

ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")
_FOLD = re.compile(r"\r?\n[ \t]*|\r[ \t]*")
_UNSAFE = re.compile(r"[\x00\ud800-\udfff]")


def clean(text: str) -> str:
    """Remove what a database cannot store: NUL characters and lone surrogates."""
    return _UNSAFE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def codec_for(charset: str | None) -> str | None:
    """The Python codec to decode a declared charset with, or None when unknown."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").split("*", 1)[0].lower()
    name = SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode text whose declared charset may be missing or wrong.

    The declared charset is tried first, then UTF-8; a real multibyte charset
    that fails keeps its reading with replacement characters, anything else
    falls back to Windows-1252 and finally Latin-1, which never fails.
    """
    declared = codec_for(charset)
    for codec in dict.fromkeys(c for c in (declared, "utf-8") if c):
        try:
            return clean(data.decode(codec))
        except UnicodeDecodeError:
            continue
    if declared and declared not in ("utf-8", "cp1252", "ascii"):
        return clean(data.decode(declared, errors="replace"))
    try:
        return clean(data.decode("cp1252"))
    except UnicodeDecodeError:
        return clean(data.decode("latin-1"))


def recover_bytes(value: str) -> bytes:
    """The original bytes of a header value the email package decoded with surrogateescape."""
    return value.encode("utf-8", "surrogateescape")


def decode_header_value(value: object, *, encoded_words: bool = True) -> str:
    """A header's raw value as text: 8-bit bytes recovered, unfolded, RFC 2047 words decoded."""
    text = decode_bytes(recover_bytes(str(value)), "utf-8")
    text = _FOLD.sub(" ", text)
    if encoded_words and "=?" in text:
        text = decode_encoded_words(text)
    return clean(text.strip())


def decode_encoded_words(text: str) -> str:
    """Decode RFC 2047 encoded-words, joining adjacent words before decoding.

    Joining matters: senders split one multibyte character across two base64
    words, and whitespace between adjacent encoded-words is not part of the text.
    """
    out: list[str] = []
    pending: list[tuple[str | None, bytes]] = []
    pos = 0
    for match in ENCODED_WORD.finditer(text):
        gap = text[pos:match.start()]
        if pending and not _BETWEEN_WORDS.fullmatch(gap):
            out.append(_flush(pending))
        if not pending:
            out.append(gap)
        charset, encoding, payload = match.groups()
        pending.append((charset, _decode_word(encoding, payload)))
        pos = match.end()
    if pending:
        out.append(_flush(pending))
    out.append(text[pos:])
    return "".join(out)


def _decode_word(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        data = payload.encode("ascii", "ignore")
        try:
            return base64.b64decode(data + b"=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            return data
    data = payload.replace("_", " ").encode("ascii", "ignore")
    try:
        return binascii.a2b_qp(data)
    except (binascii.Error, ValueError):
        return data


def _flush(pending: list[tuple[str | None, bytes]]) -> str:
    """Decode a run of adjacent encoded-words, concatenating those that share a charset."""
    parts: list[str] = []
    charset, buffer = pending[0][0], b""
    for word_charset, data in pending:
        if word_charset and charset and word_charset.lower() != charset.lower():
            parts.append(decode_bytes(buffer, charset))
            charset, buffer = word_charset, b""
        buffer += data
    parts.append(decode_bytes(buffer, charset))
    pending.clear()
    return "".join(parts)


def header(msg: Message, name: str, *, encoded_words: bool = True) -> str | None:
    """The first `name` header of `msg`, decoded; None when absent.

    Read from the raw header list so that a header the email package cannot
    parse (a malformed address, 8-bit bytes) still yields its text. Address
    headers keep their encoded-words (`encoded_words=False`) until the
    addresses are split, since a decoded display name may contain a comma.
    """
    values = headers(msg, name, encoded_words=encoded_words)
    return values[0] if values else None


def headers(msg: Message, name: str, *, encoded_words: bool = True) -> list[str]:
    """Every `name` header of `msg`, decoded, in order."""
    wanted = name.lower()
    try:
        items = msg.raw_items() if hasattr(msg, "raw_items") else msg.items()
        return [decode_header_value(v, encoded_words=encoded_words) for k, v in items if k.lower() == wanted]
    except Exception:  # a header block the library cannot even list: treat as absent
        return []


def part_text(part: Message, content_type: str) -> str:
    """The decoded text of a leaf part, whatever its transfer encoding and charset."""
    data = part_bytes(part)
    try:
        charset = part.get_content_charset()
    except Exception:  # a malformed Content-Type parameter list
        charset = None
    if charset is None and content_type == "text/html":
        match = re.search(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", data[:4096], re.I)
        charset = match.group(1).decode("ascii") if match else None
    return decode_bytes(data, charset)


def part_bytes(part: Message) -> bytes:
    """The payload of a leaf part with its transfer encoding undone (lenient about bad base64)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return recover_bytes(payload) if isinstance(payload, str) else b""

