"""Rendering pages: one Jinja2 environment per app, with the helpers every template uses."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from houqin.accounts import role_label
from houqin.bilingual import Bilingual, is_zh
from houqin.web import csrf, i18n

TEMPLATES = Path(__file__).parent / "templates"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        STATUS=i18n.STATUS, DELIVERY=i18n.DELIVERY, EVIDENCE=i18n.EVIDENCE, ACTIONS=i18n.ACTIONS
    )
    return env


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    lang: str = getattr(request.state, "lang", i18n.DEFAULT)
    tz: str = request.app.state.settings.timezone

    def t(zh: str | Bilingual, en: str | None = None) -> str:
        """``t("中文", "English")`` or ``t(bilingual)``: the reader's language (one rule)."""
        return (zh if isinstance(zh, Bilingual) else Bilingual(zh, en)).label(lang)

    def when(instant: datetime | None, zone: str | None = None, time: bool = True) -> str:
        return i18n.fmt_when(instant, zone or tz, lang, time=time)

    def when_short(instant: datetime | None, zone: str | None = None) -> str:
        """``11-23 10:05`` in the school's zone: when a used link says what it recorded."""
        return i18n.fmt_short(instant, zone or tz)

    def lab(table: dict[str, Bilingual], key: str) -> str:
        return i18n.label(table, key, lang)

    def switch_lang() -> str:
        other = "en" if is_zh(lang) else "zh-CN"
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        query.append(("lang", other))
        return request.url.path + "?" + urlencode(query)

    viewer = context.pop("viewer", getattr(request.state, "viewer", None))
    key = person_key(viewer, context.get("person"))
    page = request.app.state.templates.get_template(template)
    html = page.render(
        request=request,
        lang=lang,
        t=t,
        when=when,
        when_short=when_short,
        lab=lab,
        csrf_token=csrf.token(request) if hasattr(request.state, "csrf_secret") else "",
        viewer=viewer,
        person_key=key,
        role_label=lambda role: role_label(role, lang),
        switch_lang=switch_lang,
        **context,
    )
    headers = {"Cache-Control": "no-store"}
    if key:
        headers[PERSON_HEADER] = key
    return HTMLResponse(html, status_code=status_code, headers=headers)


PERSON_HEADER = "X-Houqin-Person"


def person_key(viewer: Any, person: Any) -> str:
    """Whose page this is, for the phone's offline copies (static/sw.js keeps them apart per
    person): the logged-in person, or the person a reminder link is for."""
    if viewer is not None:
        return f"p{viewer.person_id}" if viewer.person_id else f"a{viewer.account_id}"
    person_id = getattr(person, "id", None)
    return f"p{person_id}" if isinstance(person_id, int) else ""
