"""docs/security.md stays true: every test it names exists, every finding names one, and the
numbers it gives are the code's."""

from __future__ import annotations

import re
from pathlib import Path

from houqin.links import DEFAULT_TTL_DAYS
from houqin.secret_key import MIN_LENGTH
from houqin.settings import Settings
from houqin.web import auth, csrf

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
TEST = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def test_every_test_the_doc_names_exists() -> None:
    named = TEST.findall(DOC)
    assert len(named) >= 30
    for path, name in named:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name}"


def test_each_security_finding_says_what_happens_now_and_names_its_tests() -> None:
    rows = {int(m[1]): m[2] for m in re.finditer(r"^\| (\d+) \|(.*)$", DOC, re.M)}
    assert sorted(rows) == list(range(1, 15))  # 1-6 security, 7-14 function and usability
    for number, row in rows.items():
        found, now, tests = (cell.strip() for cell in row.rstrip(" |").split(" | "))
        assert found and now, number
        assert TEST.search(tests), f"finding {number} names no test"


def test_the_numbers_in_the_doc_are_the_codes() -> None:
    window = auth.WINDOW.seconds // 60
    flat = " ".join(DOC.split())  # the claims may wrap anywhere
    for claim in (
        f"within {window} minutes, after {auth.MAX_FAILURES} failures for a username from one "
        f"address, {auth.MAX_ACCOUNT_FAILURES} for a username from any addresses, or "
        f"{auth.MAX_ADDRESS_FAILURES} from one address",
        f"{Settings.model_fields['max_body_mb'].default} MB; "
        f"{csrf.MAX_FORM_BYTES // 1024} KB for forms without photos",
        f"short (< {MIN_LENGTH} characters)",
        f"Secure over HTTPS, {auth.SESSION_HOURS} hours",
        f"lasts {DEFAULT_TTL_DAYS} days",
    ):
        assert claim in flat, claim


def test_every_security_setting_is_explained() -> None:
    for name in ("secret_key", "trusted_proxies", "max_body_mb"):
        assert f"HOUQIN_{name.upper()}" in DOC, name
        assert name in Settings.model_fields
