"""Keep secrets out of logs: a function for values and a logging filter for whole records."""

import logging
import re
from collections.abc import Mapping

SENSITIVE_KEYS = frozenset(
    {
        "password",
        "totp",
        "client_secret",
        "access_token",
        "refresh_token",
        "authorization",
        "id_token",
        "token",
    }
)
# In query strings and form bodies ``code`` is an OAuth authorisation code; in JSON it is an error code.
FORM_KEYS = SENSITIVE_KEYS | {"code"}
MASK = "[redacted]"

# key=value in form bodies and query strings, "key": "value" in JSON, Authorization headers, and the token
# in the path of the Nexudus webhook URL (the web server logs every URL it serves).
_PATTERNS = [
    re.compile(r"(?i)\b(" + "|".join(sorted(FORM_KEYS)) + r")=([^&\s]+)"),
    re.compile(r"""(?i)(["'])(""" + "|".join(sorted(SENSITIVE_KEYS)) + r""")\1\s*:\s*(["'])[^"']*\3"""),
    re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/=]+"),
    re.compile(r"(/nexudus_qbo/webhook/nexudus/\d+/)[A-Za-z0-9_\-]+"),
]


def redact(value):
    """Return ``value`` with every sensitive entry masked: dicts and lists recursively, strings by pattern."""
    if isinstance(value, Mapping):
        return {k: MASK if str(k).lower() in SENSITIVE_KEYS and v else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    if isinstance(value, str):
        text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}={MASK}", value)
        text = _PATTERNS[1].sub(lambda m: f'"{m.group(2)}": "{MASK}"', text)
        text = _PATTERNS[2].sub(lambda m: f"{m.group(1)} {MASK}", text)
        return _PATTERNS[3].sub(lambda m: f"{m.group(1)}{MASK}", text)
    return value


class RedactingFilter(logging.Filter):
    """Mask secrets in the records of the loggers it is attached to."""

    def filter(self, record):
        if record.args:
            args = record.args
            record.args = redact(args) if isinstance(args, Mapping) else tuple(redact(a) for a in args)
            record.msg = redact(record.getMessage())
            record.args = None
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def get_logger(name):
    """A logger that never writes a password or token, whatever a caller passes it."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
