"""Chinese and English: the locale of a request, locale-aware formatting, and the catalogues.

Every package keeps its own message catalogue beside its code (``deals/translations/zh/...``),
extracted from its Python files and its templates folder, so a change to one part of the
business touches one catalogue. Flask-Babel merges them all. ``.mo`` files are compiled from
the ``.po`` files when the app starts (only when a ``.po`` is newer), so a checkout never serves
stale translations and no binary file is kept in the repository.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import click
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import Flask, has_request_context, request
from flask.cli import AppGroup
from flask_babel import (
    Babel,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
)
from flask_login import current_user

ROOT = Path(__file__).parent

#: The languages a user may choose, as stored on the user and offered on the profile page.
LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"
#: Languages that need a catalogue (English is the source language).
TRANSLATED = ("zh",)

babel = Babel()


@dataclass(frozen=True)
class Area:
    """A message catalogue: where it lives and which sources feed it."""

    name: str
    catalogue: Path  # the translations directory
    python: tuple[Path, ...]  # folders (not recursive) or files
    templates: tuple[Path, ...]  # template folders

    def po_file(self, language: str) -> Path:
        return self.catalogue / language / "LC_MESSAGES" / "messages.po"


def _package(name: str, templates: tuple[str, ...] = ()) -> Area:
    return Area(
        name,
        ROOT / name / "translations",
        (ROOT / name,),
        tuple(ROOT / "templates" / t for t in (templates or (name,))),
    )


AREAS: tuple[Area, ...] = (
    Area(
        "app",
        ROOT / "translations",
        (ROOT / "app.py", ROOT / "i18n.py"),
        (ROOT / "templates",),  # only its top-level files and _macros: see template_files()
    ),
    _package("accounts"),
    _package("notifications"),
    _package("partners"),
    _package("pricing"),
    _package("customers"),
    _package("deals", ("deals", "registrations")),
    _package("finance"),
    _package("dashboards"),
)


def template_files(area: Area) -> list[Path]:
    """The templates an area owns: the top-level area owns base.html, error pages and _macros."""
    files: list[Path] = []
    for folder in area.templates:
        if area.name == "app":
            files += sorted(folder.glob("*.html")) + sorted((folder / "_macros").glob("*.html"))
        else:
            files += sorted(folder.rglob("*.html"))
    return files


def python_files(area: Area) -> list[Path]:
    files: list[Path] = []
    for source in area.python:
        if source.is_file():
            files.append(source)
        elif source.is_dir():
            files += sorted(p for p in source.glob("*.py"))
    return files


# --- the locale of a request -------------------------------------------------------------------


def select_locale() -> str:
    """The user's own choice first; before one is made, the browser's Accept-Language."""
    if not has_request_context():
        return DEFAULT_LANGUAGE  # commands, jobs and services called outside a request
    if (request.blueprint or "").startswith("api"):
        return DEFAULT_LANGUAGE  # the JSON API speaks English to every client
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    return request.accept_languages.best_match(LANGUAGES.keys()) or DEFAULT_LANGUAGE


def current_language() -> str:
    """'en' or 'zh' for the request being served (exports and emails use it too)."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "en"


# --- formatting for the chosen locale ----------------------------------------------------------


def money(value: Decimal | int | float | None) -> str:
    """CNY with two decimals: ¥1,234.50 in both languages (not English's "CN¥")."""
    if value is None:
        return "—"
    return "¥" + format_decimal(value, format="#,##0.00")


def number(value: Decimal | int | float | None, digits: int | None = None) -> str:
    if value is None:
        return "—"
    if digits is None:
        return format_decimal(value)
    return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0")


def percent(value: Decimal | float | None, digits: int = 0) -> str:
    """A share (0.25) as the locale writes a percentage."""
    if value is None:
        return "—"
    return format_percent(value, format="#,##0." + "0" * digits + "%" if digits else "#,##0%")


def day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    return format_date(value, "medium")


def moment(value: datetime | None) -> str:
    """A timestamp in the app's time zone (BABEL_DEFAULT_TIMEZONE), to the minute."""
    if value is None:
        return "—"
    return format_datetime(value, "yyyy-MM-dd HH:mm")


FILTERS = {"money": money, "number": number, "percent": percent, "day": day, "moment": moment}


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault(
        "BABEL_DEFAULT_TIMEZONE", app.config.get("VENDOR_TIMEZONE") or "Asia/Shanghai"
    )
    # Only catalogues that exist: Flask-Babel keeps the plural rule of the last directory it
    # loads, and a missing one would bring back English's (Chinese ngettext then falls back).
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES",
        ";".join(str(a.catalogue) for a in AREAS if a.po_file(TRANSLATED[0]).exists()),
    )
    compile_catalogues()
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.add_extension("jinja2.ext.i18n")  # {% trans %} blocks
    app.jinja_env.add_extension("jinja2.ext.do")  # {% do args.update(...) %}, not set _ = ...
    app.cli.add_command(translations_cli)

    @app.context_processor
    def inject_language():
        return {"current_language": current_language(), "languages": LANGUAGES}


# --- catalogues --------------------------------------------------------------------------------

BABEL_KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}


def extract(area: Area):
    """Every message of an area's sources, as Babel's extractor finds them."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file

    catalog = Catalog(project="channel", fuzzy=False)
    for path in python_files(area):
        for lineno, message, _comments, context in extract_from_file(
            "python", str(path), keywords=BABEL_KEYWORDS
        ):
            catalog.add(message, None, [(str(path.relative_to(ROOT)), lineno)], context=context)
    for path in template_files(area):
        for lineno, message, _comments, context in extract_from_file(
            "jinja2",
            str(path),
            keywords=BABEL_KEYWORDS,
            options={"extensions": "jinja2.ext.do,jinja2.ext.loopcontrols"},
        ):
            catalog.add(message, None, [(str(path.relative_to(ROOT)), lineno)], context=context)
    return catalog


def missing_translations(area: Area, language: str = "zh") -> list[str]:
    """Messages of the area's sources that its catalogue lacks, leaves empty or marks fuzzy."""
    template = extract(area)
    po_file = area.po_file(language)
    if not po_file.exists():
        return [m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id]
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    missing = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id, message.context)
        strings = translated.string if translated is not None else None
        if isinstance(strings, tuple | list):
            empty = not all(strings)
        else:
            empty = not strings
        if translated is None or empty or translated.fuzzy:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update_catalogue(area: Area, language: str = "zh") -> tuple[int, int]:
    """Merge the area's current messages into its catalogue (new ones empty, gone ones dropped).

    Returns (messages, untranslated).
    """
    from babel.messages.catalog import Catalog

    template = extract(area)
    po_file = area.po_file(language)
    if po_file.exists():
        with po_file.open("rb") as handle:
            catalog = read_po(handle, locale=language)
    else:
        catalog = Catalog(locale=language, project="channel")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    po_file.parent.mkdir(parents=True, exist_ok=True)
    with po_file.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=False, omit_header=False)
    untranslated = sum(1 for m in catalog if m.id and not m.string)
    return len([m for m in catalog if m.id]), untranslated


def compile_catalogues() -> None:
    """Write each ``.mo`` whose ``.po`` is newer; atomic, so several processes may race."""
    for area in AREAS:
        for language in TRANSLATED:
            po_file = area.po_file(language)
            if not po_file.exists():
                continue
            mo_file = po_file.with_suffix(".mo")
            if mo_file.exists() and mo_file.stat().st_mtime >= po_file.stat().st_mtime:
                continue
            with po_file.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            fd, temporary = tempfile.mkstemp(dir=po_file.parent, suffix=".mo.tmp")
            with os.fdopen(fd, "wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)
            os.replace(temporary, mo_file)


translations_cli = AppGroup("translations", help="Message catalogues (Chinese).")


@translations_cli.command("update")
@click.argument("areas", nargs=-1)
def update_command(areas):
    """Add new messages of the sources to the catalogues (AREAS: app, accounts, deals, ...)."""
    for area in AREAS:
        if areas and area.name not in areas:
            continue
        total, untranslated = update_catalogue(area)
        click.echo(f"{area.name}: {total} messages, {untranslated} untranslated")


@translations_cli.command("check")
def check_command():
    """List messages without a Chinese translation; exit 1 when there is any."""
    bad = 0
    for area in AREAS:
        missing = missing_translations(area)
        bad += len(missing)
        for message in missing:
            click.echo(f"{area.name}: {message!r}")
    if bad:
        raise SystemExit(1)
    click.echo("Every message has a Chinese translation.")


@translations_cli.command("compile")
def compile_command():
    compile_catalogues()
    click.echo("Catalogues compiled.")


@translations_cli.command("fill")
@click.argument("area_name")
@click.argument("json_file", type=click.File("r", encoding="utf-8"))
def fill_command(area_name, json_file):
    """Set Chinese translations of an area from a JSON object {"English": "中文"}."""
    import json

    area = next((a for a in AREAS if a.name == area_name), None)
    if area is None:
        raise click.BadParameter(f"no area {area_name}")
    translations = json.load(json_file)
    po_file = area.po_file("zh")
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    for message in catalog:
        key = message.id if isinstance(message.id, str) else (message.id or ("",))[0]
        if key and key in translations:
            value = translations[key]
            message.string = tuple(value) if isinstance(value, list) else value
            message.flags.discard("fuzzy")
    with po_file.open("wb") as handle:
        write_po(handle, catalog, width=100)
    left = [m.id for m in catalog if m.id and not m.string]
    click.echo(f"{area.name}: {len(left)} untranslated" + (f": {left}" if left else ""))
