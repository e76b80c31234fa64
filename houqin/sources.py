"""Where plan templates and school calendars are read from, per the settings."""

from __future__ import annotations

from calendars import CalendarBook, book_stamp, load_book
from houqin.errors import NotFound
from houqin.plan_specs import PlanTemplate
from houqin.plan_templates import builtin_plans_dir, load_templates
from houqin.settings import Settings


def load_plans(settings: Settings) -> dict[str, PlanTemplate]:
    """The built-in plans and the school's own (``HOUQIN_PLANS_DIR``), all validated together."""
    dirs = [builtin_plans_dir()]
    if settings.plans_dir is not None:
        dirs.append(settings.plans_dir)
    return load_templates(dirs)


def get_plan(settings: Settings, key: str) -> PlanTemplate:
    plans = load_plans(settings)
    if key not in plans:
        raise NotFound(f"no plan template {key!r}; known: {', '.join(sorted(plans))}")
    return plans[key]


def load_calendars(settings: Settings) -> CalendarBook:
    return load_book(settings.calendar_dir)


def calendars_stamp(settings: Settings) -> object:
    """Changes whenever the files ``load_calendars`` reads change (calendars/workdays.py)."""
    return book_stamp(settings.calendar_dir)
