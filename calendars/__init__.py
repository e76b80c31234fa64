"""School calendars: each school year's anchors and Chinese working days (节假日 + 调休).

The ``YYYY-YYYY.yaml`` files beside this module are the data a logistics head edits.
"""

from .school_year import SchoolYear
from .workdays import DEFAULT_DIR, CalendarBook, CalendarIssue, book_stamp, load_book

__all__ = [
    "DEFAULT_DIR",
    "CalendarBook",
    "CalendarIssue",
    "SchoolYear",
    "book_stamp",
    "load_book",
]
