"""Every refusal a page shows is in the reader's language, from one catalogue
(houqin/web/catalogue.py): each error path below is driven in zh-CN and in English, and a zh-CN
page with an English sentence on it fails."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

import httpx
import pytest
from sqlalchemy import delete, select

from houqin.models import Item, RoleBinding
from tests.web.conftest import Live, form_token, logged_in
from tests.web.images import png

# three or more English words in a row: a sentence, not a file format or a code
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,}){2,}")


def main_text(html: str) -> str:
    """The page's own words (its <main>), without tags, styles, and machine detail quoted as
    such (``<code lang="en">``: a mail server's own answer on the outbox page)."""
    body = html.split("<main>", 1)[-1].split("</main>", 1)[0]
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r'<code lang="en">.*?</code>', " ", body, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


def english_in(html: str) -> list[str]:
    return ENGLISH.findall(main_text(html))


def _owned(live: Live, owner: str, kind: str) -> int:
    with live.session() as s:
        found = [
            item.id
            for item in s.scalars(
                select(Item)
                .where(
                    Item.owner_id == live.world.people[owner],
                    Item.evidence_kind == kind,
                    Item.status == "open",
                )
                .order_by(Item.id)
            )
            if not item.depends_on
        ]
        assert found
        return found[0]


def _unbind(live: Live) -> None:
    with live.session() as s, s.begin():
        s.execute(delete(RoleBinding).where(RoleBinding.role_key == "canteen_manager"))


def _post_tick(client: httpx.Client, item_id: int, **kwargs: object) -> httpx.Response:
    csrf = form_token(client, f"/items/{item_id}")
    data = {"csrf": csrf, **kwargs.pop("data", {})}  # type: ignore[dict-item]
    return client.post(f"/items/{item_id}/tick", data=data, **kwargs)  # type: ignore[arg-type]


Path = Callable[[Live, httpx.Client], httpx.Response]
PATHS: dict[str, tuple[str, Path, str, str]] = {
    # name: (account, request, zh-CN text, English text)
    "period written wrong": (
        "zhang",
        lambda live, c: c.get("/launch?template=quality_service_month&period=2027"),
        "期间「2027」的写法不对",
        "Period '2027' is not valid",
    ),
    "term mismatch": (
        "zhang",
        lambda live, c: c.get("/launch?template=quality_service_month&period=2027-2028/2"),
        "此计划属于秋季学期",
        "this plan is for the autumn term",
    ),
    "unbound role": (
        "zhang",
        lambda live, c: (
            _unbind(live),
            c.get("/launch?template=quality_service_month&period=2027-2028/1"),
        )[1],
        "本校还没有人担任",
        "No one at this school holds the role",
    ),
    "too many photos": (
        "li",
        lambda live, c: _post_tick(
            c,
            _owned(live, "li", "photo"),
            files=[("photos", (f"p{i}.png", png(), "image/png")) for i in range(6)],
        ),
        "照片太多：每次最多 5 张",
        "Too many photos: at most 5",
    ),
    "assessment period": (
        "wang",
        lambda live, c: c.get("/review/assessment.html?period=bogus"),
        "期间「bogus」的写法不对",
        "Period 'bogus' is not valid",
    ),
    "number not a number": (
        "zheng",
        lambda live, c: _post_tick(
            c, live.world.items["canteen_questionnaire"], data={"number": "abc"}
        ),
        "「abc」不是数字：请填写数字",
        "must be a number",
    ),
    "unknown report format": (
        "wang",
        lambda live, c: c.get("/review/digest.docx"),
        "没有这种报表格式",
        "No such report format",
    ),
}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("name", list(PATHS))
def test_each_error_is_in_the_readers_language(live: Live, name: str, lang: str) -> None:
    account, call, zh, en = PATHS[name]
    with logged_in(live, account) as client:
        client.cookies.set("houqin_lang", lang)
        response = call(live, client)
    assert 400 <= response.status_code < 500 and response.status_code != 403, response.text
    text = main_text(response.text)
    if lang == "zh-CN":
        assert zh in text, text
        assert english_in(response.text) == [], f"English on a zh-CN page: {text}"
    else:
        assert en in text, text


def test_the_report_format_is_not_a_permission_question(live: Live) -> None:
    with logged_in(live, "wang") as client:
        response = client.get("/review/digest.docx")
    assert response.status_code == 404 and "您没有权限" not in response.text


def test_the_detector_finds_an_english_sentence() -> None:
    page = "<main><p>period '2027': expected a school year such as 2026-2027</p></main>"
    assert english_in(page)
    assert not english_in("<main><p>可选 html、pdf、xlsx。</p></main>")


def test_a_refused_launch_shows_its_form_again_as_typed_with_the_reason_beside_it(
    live: Live,
) -> None:
    with logged_in(live, "zhang") as client:
        page = client.get("/launch?template=quality_service_month&period=2027")
    assert page.status_code == 400
    assert 'value="2027"' in page.text and 'value="quality_service_month" selected' in page.text
    assert 'id="problem-period"' in page.text and "期间「2027」的写法不对" in page.text


def test_no_page_a_role_opens_in_zh_cn_has_an_english_sentence(live: Live) -> None:
    w = live.world
    pages = {
        "zhang": [
            "/my",
            "/head",
            "/people",
            "/outbox",
            "/review",
            f"/runs/{w.run_id}",
            f"/items/{w.items['publicity_coverage']}",
            "/calendar",
            "/launch?template=quality_service_month&period=2026-2027/1",
        ],
        "wang": ["/review", f"/runs/{w.run_id}", "/review/assessment.html?period=2026Q4"],
        "li": ["/my", f"/items/{w.items['repair_training']}"],
        "chen": ["/team"],
        "district": ["/review"],
    }
    found = {}
    for user, paths in pages.items():
        with logged_in(live, user) as client:
            for path in paths:
                response = client.get(path)
                assert response.status_code == 200, (user, path)
                if english_in(response.text):
                    found[(user, path)] = english_in(response.text)
    assert found == {}
