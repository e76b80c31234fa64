"""``houqin serve`` (the web UI) and ``houqin ical`` (personal calendar feeds)."""

from __future__ import annotations

import os
from datetime import datetime

import click
from sqlalchemy.orm import Session

from houqin import ical as feeds
from houqin.cli.context import Ctx, by_option, pass_ctx
from houqin.models import Person
from houqin.people import get_person, get_school
from houqin.secret_key import signing_key


@click.command()
@click.option("--host", help="Address to listen on (default: HOUQIN_WEB_HOST, 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: HOUQIN_WEB_PORT, 8000).")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes; one per core for a district (see docs/benchmark.md).",
)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Serve a replayed day (YYYY-MM-DD): the pages' clock and reminder-link expiry, so "
    "`make demo`'s season and its mail links can be explored. Default: the real date.",
)
@pass_ctx
def serve(c: Ctx, host: str | None, port: int | None, workers: int, today: datetime | None) -> None:
    """Run the web UI (uvicorn). Put it behind an HTTPS proxy and set HOUQIN_BASE_URL."""
    import uvicorn  # deliberate: the web stack is needed only by this command

    from houqin.web import access_log  # deliberate: as above
    from houqin.web.app import make_app  # deliberate: as above

    if today is not None:
        c.settings = c.settings.model_copy(update={"today": today.date()})
        os.environ["HOUQIN_TODAY"] = today.date().isoformat()  # for the workers' own settings
        click.echo(f"Serving the replayed day {today.date()} (its clock and link expiry).")
    c.engine()  # the schema is checked before the server starts, not at the first request
    signing_key(c.settings)  # and the key, in this process, before any worker starts
    host, port = host or c.settings.web_host, port or c.settings.web_port
    # Forwarded headers are believed only from HOUQIN_TRUSTED_PROXIES, in the app itself:
    # uvicorn's own proxy_headers would trust any client on 127.0.0.1 (FORWARDED_ALLOW_IPS).
    logs = access_log.log_config()
    if workers == 1:
        app = make_app(c.settings)
        uvicorn.run(app, host=host, port=port, proxy_headers=False, log_config=logs)
        return
    # several processes need the app by import path; each builds its own from the settings
    uvicorn.run(
        "houqin.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_config=logs,
    )


@click.group()
def ical() -> None:
    """Personal calendar feeds (iCal) of open items."""


def _person(s: Session, school_code: str, person_code: str) -> Person:
    return get_person(s, get_school(s, school_code), person_code)


@ical.command("issue")
@click.argument("person_code", metavar="PERSON")
@click.option("--school", "school_code", required=True, help="School code.")
@by_option
@pass_ctx
def ical_issue(c: Ctx, person_code: str, school_code: str, by: str) -> None:
    """Print a new feed URL for PERSON (any earlier URL stops working)."""
    with c.unit() as s:
        token = feeds.issue_token(
            s, _person(s, school_code, person_code), now=c.now(None), actor=by
        )
    click.echo(feeds.feed_url(c.settings.base_url, token))


@ical.command("revoke")
@click.argument("person_code", metavar="PERSON")
@click.option("--school", "school_code", required=True, help="School code.")
@by_option
@pass_ctx
def ical_revoke(c: Ctx, person_code: str, school_code: str, by: str) -> None:
    """End PERSON's feed URL."""
    with c.unit() as s:
        done = feeds.revoke_token(
            s, _person(s, school_code, person_code), now=c.now(None), actor=by
        )
    click.echo(f"{person_code}: feed revoked" if done else f"{person_code}: had no feed")
