"""Timestamps between the services' ISO-8601 strings and Odoo's naive UTC datetimes."""

from datetime import datetime, timedelta, timezone

# Read again what changed shortly before a cursor: clocks and commits lag.
READ_OVERLAP = timedelta(minutes=10)


def naive_utc(text):
    """An ISO-8601 string (``Z``, an offset, or none for UTC) as a naive UTC datetime, or None."""
    if not text:
        return None
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return (moment.astimezone(timezone.utc) if moment.tzinfo else moment).replace(tzinfo=None)


def nexudus_minute(moment):
    """Nexudus's documented range-filter format, ``YYYY-MM-DDTHH:mm``; flooring keeps every record a
    ``from_`` filter must."""
    return moment.strftime("%Y-%m-%dT%H:%M")
