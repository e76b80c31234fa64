"""The automation that tells a person when a flow run fails: ``houqin-failed-run``.

A run ends Failed when a school's work failed (flows/runs.py); this posts its name and message
to ``HOUQIN_ALERT_WEBHOOK_URL`` (a robot, a chat hook) as JSON ``{"text": ...}``. Created as code
by ``python -m flows.serve`` (``make up``) and ``python -m flows.alerts`` (after ``prefect deploy
--all``); applying again replaces it, so it never doubles.
"""

from __future__ import annotations

from contextlib import suppress
from uuid import UUID

from prefect.automations import Automation, EventTrigger, Posture, SendNotification
from prefect.blocks.notifications import CustomWebhookNotificationBlock

from houqin.settings import get_settings

NAME = "houqin-failed-run"
SUBJECT = "Houqin: {{ flow.name }} run '{{ flow_run.name }}' failed"
BODY = "{{ flow_run.state.message }}\n{{ flow_run|ui_url }}"


def apply_alerts(url: str | None = None) -> UUID | None:
    """Create (or replace) the automation posting Failed runs to ``url``; None when no URL."""
    url = url or get_settings().alert_webhook_url
    if not url:
        return None
    block_id = CustomWebhookNotificationBlock(
        name=NAME, url=url, json_data={"text": "{{subject}}\n{{body}}"}
    ).save(NAME, overwrite=True)
    with suppress(ValueError):  # none yet
        Automation.read(name=NAME).delete()
    automation = Automation(
        name=NAME,
        description="Post every Failed Houqin flow run, with its message, to the alert webhook.",
        trigger=EventTrigger(
            expect={"prefect.flow-run.Failed"},
            match={"prefect.resource.id": "prefect.flow-run.*"},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[SendNotification(block_document_id=block_id, subject=SUBJECT, body=BODY)],
    ).create()
    return automation.id


def main() -> None:
    made = apply_alerts()
    print(f"automation {NAME}: {made}" if made else "HOUQIN_ALERT_WEBHOOK_URL is not set")


if __name__ == "__main__":
    main()
