"""QuickBooks Online Accounting API v3 + Intuit OAuth 2.0 simulator (see :mod:`simulators.qbo.server`)."""

from simulators.qbo.data import DEFAULT_REALM_ID, QboCompany
from simulators.qbo.limits import QboLimits
from simulators.qbo.oauth import (
    ACCOUNTING_SCOPE,
    AUTHORIZE_PATH,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    REVOKE_PATH,
    TOKEN_PATH,
)
from simulators.qbo.server import QboSimulator

__all__ = [
    "ACCOUNTING_SCOPE",
    "AUTHORIZE_PATH",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REALM_ID",
    "REVOKE_PATH",
    "TOKEN_PATH",
    "QboCompany",
    "QboLimits",
    "QboSimulator",
]
