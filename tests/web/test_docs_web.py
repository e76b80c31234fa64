"""docs/web.md stays true: every page it shows exists, every page the app serves is in it."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.routing import APIRoute

from houqin.accounts import ROLES
from houqin.web import board, head, ical, links, login, offline, outbox, review, staff, ticks

DOC = Path(__file__).resolve().parents[2] / "docs" / "web.md"
UNLISTED = {"/", "/login", "/photos/{evidence_id}", "/photos/{evidence_id}/thumb"}


def test_every_screenshot_the_page_links_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    images = re.findall(r"\]\((screenshots/[^)]+\.png)\)", text)
    assert len(images) >= 20
    for image in images:
        assert (DOC.parent / image).is_file(), image


def test_every_page_and_role_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    pages = {
        route.path
        for module in (board, head, ical, links, login, offline, outbox, review, staff, ticks)
        for route in module.router.routes
        if isinstance(route, APIRoute) and "GET" in route.methods
    } - UNLISTED
    for path in pages:
        documented = re.sub(r"\{[^}]+\}", "{id}", path).replace("{id}.ics", "{token}.ics")
        assert documented.split("{")[0] in text, path
    for role in ROLES:
        assert f"`{role}`" in text, role
