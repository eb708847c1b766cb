"""Render a reply for the channel it goes out on (pure: reads template files, nothing else).

Each template file (`<name>.<language>.j2`) holds the wording in three blocks:
`subject`, `body` (paragraphs separated by blank lines) and `sms`. The channel
decides the shape: email gets a greeting, sign-off and an HTML alternative; chat
gets the body and reference; SMS gets the short form, which must fit in two
segments; a letter gets structured blocks for the post connector to lay out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, pass_context, select_autoescape
from markupsafe import Markup, escape

from triage.config import ConfigError
from triage.council import Council
from triage.templates.catalogue import LANGUAGES, REPLY_CHANNELS, SERVICE_TEAMS, TEMPLATES
from triage.templates.dates import date_in_words
from triage.templates.sms import sms_segments

TEMPLATE_DIR = Path(__file__).parent
SMS_MAX_SEGMENTS = 2
CHAT_CHANNELS = ("telegram", "webchat")
COUNCIL_TABLES = ("self_service", "signposting")
"""Tables of the council file that templates read, besides `[council]` (as `online` and `signposting`)."""


class RenderError(ValueError):
    """A template cannot be rendered as asked: unknown name, language or channel, missing values, too long."""


@dataclass(frozen=True)
class Letter:
    """A reply letter as blocks; the post connector lays them out on paper."""

    language: str
    date: str
    reference: str
    heading: str
    salutation: str
    paragraphs: tuple[str, ...]
    closing: str
    signature: tuple[str, ...]
    return_address: tuple[str, ...]

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    text: str
    html: str | None = None
    letter: Letter | None = None


_URL = re.compile(r"https?://[^\s<>\"]+?(?=[.,;:!?)]*(?:\s|$))")


def linkify(text: str) -> Markup:
    """Escape a paragraph for HTML, make its URLs links and keep its line breaks."""
    escaped = str(escape(text))
    linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
    return Markup(linked.replace("\n", "<br>\n"))  # noqa: S704 - built from escaped text


@pass_context
def _in_words(context, day: date) -> str:
    return date_in_words(day, context["language"])


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["in_words"] = _in_words
    env.filters["linkify"] = linkify
    return env


def council_values(council: Council, language: str) -> dict[str, dict[str, object]]:
    """The council's values for templates, with `<key>_cy` replacing `<key>` in Welsh."""
    tables = {"council": council.details, **{name: council.raw.get(name, {}) for name in COUNCIL_TABLES}}
    resolved = {}
    for name, table in tables.items():
        values = {key: value for key, value in table.items() if not key.endswith("_cy")}
        if language != "en":
            values.update({key[: -len(f"_{language}")]: value for key, value in table.items()
                           if key.endswith(f"_{language}")})
        resolved["online" if name == "self_service" else name] = values
    return resolved


def _check(name: str, language: str, values: Mapping[str, object]) -> None:
    spec = TEMPLATES.get(name)
    if spec is None:
        raise RenderError(f"no template called {name!r}")
    languages = LANGUAGES if spec.resident_facing else ("en",)
    if language not in languages:
        raise RenderError(f"template {name!r} is not written in {language!r}")
    missing = [key for key in spec.needs if values.get(key) is None]
    if missing:
        raise RenderError(f"template {name!r} needs {', '.join(missing)}")


class _Blocks:
    """One template's blocks rendered with one set of variables."""

    def __init__(self, name: str, language: str, variables: Mapping[str, object]) -> None:
        env = environment()
        self.variables = dict(variables)
        self._template = env.get_template(f"{name}.{language}.j2")
        self._frame = env.get_template(f"_frame.{language}.j2")

    def block(self, block: str) -> str:
        return self._render(self._template, block)

    def frame(self, block: str, **extra: object) -> str:
        return self._render(self._frame, block, extra)

    def paragraphs(self) -> list[str]:
        return [p.strip() for p in re.split(r"\n\s*\n", self.block("body")) if p.strip()]

    def _render(self, template, block: str, extra: Mapping[str, object] | None = None) -> str:
        context = template.new_context({**self.variables, **(extra or {})})
        return "".join(template.blocks[block](context)).strip()


def _blocks(name: str, language: str, values: Mapping[str, object], council: Council) -> _Blocks:
    _check(name, language, values)
    return _Blocks(name, language, {**council_values(council, language), "resident_name": None, **values,
                                    "language": language})


def render_reply(name: str, channel: str, language: str, values: Mapping[str, object], council: Council,
                 today: date) -> Rendered:
    """The reply as it goes out on `channel`; `values` are the template's needs (see the catalogue)."""
    blocks = _blocks(name, language, values, council)
    if channel == "sms":
        return Rendered(subject=None, text=_sms_text(name, language, blocks))
    if channel == "post":
        letter = _letter(blocks, language, values, council, today)
        return Rendered(subject=letter.heading, text="\n\n".join(letter.paragraphs), letter=letter)
    reference_line = blocks.frame("reference_line")
    if channel in CHAT_CHANNELS:
        return Rendered(subject=None, text="\n\n".join([*blocks.paragraphs(), reference_line]))
    if channel != "email":
        raise RenderError(f"no reply form for channel {channel!r}")
    subject = blocks.frame("subject", subject=blocks.block("subject"))
    paragraphs = [blocks.frame("greeting"), *blocks.paragraphs(), reference_line, blocks.frame("sign_off")]
    html = environment().get_template("email.html.j2").render(language=language, subject=subject,
                                                              paragraphs=paragraphs)
    return Rendered(subject=subject, text="\n\n".join(paragraphs) + "\n", html=html)


def render_letter(name: str, language: str, values: Mapping[str, object], council: Council,
                  today: date) -> Letter:
    """The reply as letter blocks (heading, salutation, body paragraphs, closing) for the post connector."""
    return _letter(_blocks(name, language, values, council), language, values, council, today)


def _letter(blocks: _Blocks, language: str, values: Mapping[str, object], council: Council,
            today: date) -> Letter:
    return Letter(
        language=language,
        date=date_in_words(today, language),
        reference=str(values["reference"]),
        heading=blocks.block("subject"),
        salutation=blocks.frame("salutation"),
        paragraphs=(*blocks.paragraphs(), blocks.frame("reference_line")),
        closing=blocks.frame("closing"),
        signature=tuple(blocks.frame("sign_off").splitlines()),
        return_address=tuple(str(line) for line in council.details.get("postal_address", ())),  # type: ignore[union-attr]
    )


def _sms_text(name: str, language: str, blocks: _Blocks) -> str:
    text = " ".join(blocks.block("sms").split())
    size = sms_segments(text)
    if size.segments > SMS_MAX_SEGMENTS:
        raise RenderError(f"the SMS form of {name!r} ({language}) needs {size.segments} segments "
                          f"({size.units} {size.encoding} units); at most {SMS_MAX_SEGMENTS} are allowed")
    return text


def longest_values(language: str) -> dict[str, object]:
    """Values that make each template as long as it can get, to prove it fits before it is ever sent."""
    days = [date(2030, 1, 1) + timedelta(days=n) for n in range(366)]
    longest_day = max(days, key=lambda day: len(date_in_words(day, language)))
    return {
        "reference": "T-9999999", "respond_by": longest_day, "promised_by": longest_day,
        "needs_interpretation": True,
        "service_name": max((names[language] for names in SERVICE_TEAMS.values()), key=len),
    }


def check_templates(council: Council) -> None:
    """Render every resident-facing template on every channel with this council's values; raise if any fails.

    Run at start-up, so a council file with a long URL is refused with a clear
    message instead of an SMS reply failing for a resident later.
    """
    for name, spec in TEMPLATES.items():
        if not spec.resident_facing:
            continue
        for language in LANGUAGES:
            for channel in REPLY_CHANNELS:
                try:
                    render_reply(name, channel, language, longest_values(language), council, date(2030, 9, 25))
                except (RenderError, TemplateError) as exc:
                    raise ConfigError(f"TRIAGE_COUNCIL_FILE: {exc}") from None
