"""The QuickBooks Online Accounting API v3 and Intuit OAuth 2.0 simulator: a real HTTP server on 127.0.0.1.

Paths are Intuit's own (``/connect/oauth2``, ``/oauth2/v1/tokens/bearer``, ``/v2/oauth2/tokens/revoke``,
``/v3/company/{realmId}/...``), so a client only swaps the host::

    with QboSimulator(build_world(profile="us")) as sim:
        redirect = sim.authorize(state="xyz")      # the consent step, without a browser
        ...                                        # exchange the code at sim.url + TOKEN_PATH

Every entity type lives in its own :class:`~simulators.qbo.data.EntityStore` (rows by Id, ``next_id``) and
every QBO ``Fault`` body is rendered by :meth:`QboSimulator.fault`. Writes live in :mod:`simulators.qbo.writes`,
the batch endpoint in :mod:`simulators.qbo.batch`, change data capture in :mod:`simulators.qbo.cdc`.

Intuit's throttles (500 requests a minute, 10 at once, 40 batches a minute, per realm) are enforced by default
(:mod:`simulators.qbo.limits`): ``QboSimulator(world, limits=QboLimits(...))`` changes them,
``QboLimits.unlimited()`` lifts them.

``GET /`` (and ``GET /company/{realmId}``) is the simulator's own HTML overview of the company's invoices,
credit memos and payments for a person (:mod:`simulators.qbo.overview`); it needs no token, and its buttons
receive, void and delete payments as a person would in QuickBooks (``POST /sim/...``, not Intuit's API).
"""

import copy
import secrets
import threading
import time
from contextlib import contextmanager
from datetime import datetime

from simulators.httpbase import Response, SimulatorServer
from simulators.qbo.batch import BatchMixin
from simulators.qbo.cdc import CdcMixin
from simulators.qbo.data import DEFAULT_REALM_ID, QboCompany
from simulators.qbo.limits import ThrottleMixin
from simulators.qbo.oauth import ACCOUNTING_SCOPE, OAuthMixin
from simulators.qbo.overview import OverviewMixin
from simulators.qbo.query import PACIFIC, QueryError, parse, run
from simulators.qbo.sales import INCLUSIVE_READINGS
from simulators.qbo.webhooks import WebhooksMixin
from simulators.qbo.writes import WritesMixin
from simulators.world import build_world

MINOR_VERSION = 75  # since August 2025 QBO answers every request as minor version 75, whatever is asked
OBJECT_NOT_FOUND = (
    "Object Not Found : Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)


def effective_minor_version(value):
    """The minor version QBO applies for a ``minorversion`` parameter: at least 75, 75 when unreadable."""
    return max(MINOR_VERSION, int(value)) if value and value.isdigit() else MINOR_VERSION


class QboSimulator(
    OverviewMixin, CdcMixin, BatchMixin, WebhooksMixin, WritesMixin, OAuthMixin, ThrottleMixin, SimulatorServer
):
    """QBO companies (realms) behind Intuit's OAuth 2.0, seeded from a shared world: one (``realm_id``), and any
    :meth:`add_company` adds; the consent page lets the person choose among them. ``company`` is the company of
    the request being answered (its path's realm), else the first one.

    ``limits`` (a :class:`~simulators.qbo.limits.QboLimits`, None for Intuit's documented ones) are the
    throttles per realm; ``clock`` is the wall clock ``now()`` adds ``clock_offset`` to (tests may pass a
    frozen one). ``inclusive_reading`` (``"net"`` or ``"gross"``, also the attribute of that name tests may
    change) is how a ``TaxInclusive`` invoice or credit memo's line amounts are read (:mod:`simulators.qbo.sales`).
    ``webhook_format`` (``"cloudevents"`` or ``"legacy"``) is the shape of the webhooks it posts once subscribed
    (:mod:`simulators.qbo.webhooks`).
    """

    def __init__(
        self,
        world=None,
        port=0,
        realm_id=DEFAULT_REALM_ID,
        bulk_accounts=0,
        limits=None,
        clock=time.time,
        inclusive_reading="net",
        webhook_format="cloudevents",
    ):
        if inclusive_reading not in INCLUSIVE_READINGS:
            raise ValueError(f"inclusive_reading must be one of {INCLUSIVE_READINGS}, not {inclusive_reading!r}")
        self.world = world or build_world()
        self.companies = {realm_id: QboCompany.from_world(self.world, realm_id=realm_id, bulk_accounts=bulk_accounts)}
        self._serving = threading.local()  # the company this thread acts for (see ``serving``)
        self.clock = clock
        self.clock_offset = 0  # seconds added to the wall clock (now, MetaData stamps, token expiry, CDC window)
        self.minor_versions = []  # effective minor version of every API call, in order
        self.init_throttle(limits)
        self.init_oauth()
        self.init_writes()
        self.init_webhooks(webhook_format)
        self.inclusive_reading = inclusive_reading  # "net" or "gross": a TaxInclusive document's amounts (sales.py)
        self.init_cdc()
        super().__init__(port=port)

    def now(self):
        return self.clock() + self.clock_offset

    def add_company(self, realm_id, world=None, name=None):
        """Another company the app can be connected to, seeded from ``world`` (this simulator's by default) and
        named ``name`` (the world's company name by default); returns it."""
        company = QboCompany.from_world(world or self.world, realm_id=realm_id)
        if name:
            company.company_info["CompanyName"] = company.company_info["LegalName"] = name
        with self.lock:
            self.companies[realm_id] = company
        return company

    @property
    def company(self):
        return getattr(self._serving, "company", None) or next(iter(self.companies.values()))

    @property
    def deleted(self):
        return self.company.deleted

    @property
    def voided(self):
        return self.company.voided

    @contextmanager
    def serving(self, realm_id):
        """Act for ``realm_id``'s company in this thread: its requests, or what a person does in it
        (``record_payment``, ``set_preferences``...)."""
        previous = getattr(self._serving, "company", None)
        self._serving.company = self.companies[realm_id]
        try:
            yield self._serving.company
        finally:
            self._serving.company = previous

    def setup_routes(self):
        self.oauth_routes()
        company = r"/v3/company/(?P<realm>[^/]+)"
        self.route("GET", company + r"/companyinfo/(?P<id>[^/]+)", self.api(self.get_company_info))
        self.route("GET", company + r"/preferences", self.api(self.get_preferences))
        self.route("GET", company + r"/query", self.api(self.query))
        self.route("POST", company + r"/query", self.api(self.query))
        self.write_routes(company)
        self.batch_routes(company)
        self.cdc_routes(company)
        self.route("GET", company + r"/(?P<entity>[A-Za-z]+)/(?P<id>[^/]+)", self.api(self.read))
        self.overview_routes()  # the simulator's own read-only HTML page for people, not Intuit's API

    def dispatch(self, request):
        response = super().dispatch(request)
        if response is not None:
            response.headers.setdefault("intuit_tid", f"1-{secrets.token_hex(16)}")
        return response

    def set_preferences(self, section, **values):
        """Change company preferences as a person would in QuickBooks' settings, e.g.
        ``set_preferences("SalesFormsPrefs", AutoApplyCredit=False)`` (plain Python, not HTTP)."""
        with self.lock:
            self.company.preferences.setdefault(section, {}).update(values)

    # -- envelopes ------------------------------------------------------------------------------------
    def response_time(self):
        return datetime.fromtimestamp(self.now(), PACIFIC).isoformat(timespec="milliseconds")

    def ok(self, payload):
        return Response(200, {**payload, "time": self.response_time()})

    def fault(self, code, message, detail, status=400, type="ValidationFault", element=""):
        """The standard QBO error body: ``{"Fault": {"Error": [...], "type": ...}, "time": ...}``."""
        error = {"Message": message, "Detail": detail, "code": str(code), "element": element}
        return Response(status, {"Fault": {"Error": [error], "type": type}, "time": self.response_time()})

    def gateway_fault(self, status, message, code, detail, fault_type):
        """The API gateway's own lower-case envelope (401 AuthenticationFailed, 403 AuthorizationFailed, 429)."""
        return Response(
            status,
            {
                "warnings": None,
                "intuitObject": None,
                "fault": {
                    "error": [{"message": message, "detail": detail, "code": code, "element": None}],
                    "type": fault_type,
                },
                "report": None,
                "queryResponse": None,
                "batchItemResponse": [],
                "attachableResponse": [],
                "syncErrorResponse": None,
                "requestId": None,
                "time": int(self.now() * 1000),
                "status": None,
                "cdcresponse": [],
            },
        )

    def api(self, handler):
        """Wrap an accounting API handler with the bearer-token and realm checks QBO's gateway makes."""

        def checked(request):
            with self.lock:
                grant = self.bearer_grant(request)
                if grant is None:
                    return self.gateway_fault(
                        401,
                        "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                        "3200",
                        "Token expired or invalid: the bearer token is not valid for this request",
                        "AUTHENTICATION",
                    )
                if request.path_args["realm"] != grant.realm_id or ACCOUNTING_SCOPE not in grant.scopes:
                    return self.gateway_fault(
                        403,
                        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                        "3100",
                        "The access token does not grant access to this company or scope",
                        "AUTHORIZATION",
                    )
                self.minor_versions.append(effective_minor_version(request.params.get("minorversion")))
                with self.serving(grant.realm_id):
                    return handler(request)

        return checked

    # -- reads ----------------------------------------------------------------------------------------
    def get_company_info(self, request):
        if request.path_args["id"] != self.company.realm_id:
            return self.fault("610", "Object Not Found", OBJECT_NOT_FOUND)
        return self.ok({"CompanyInfo": copy.deepcopy(self.company.company_info)})

    def get_preferences(self, request):
        return self.ok({"Preferences": copy.deepcopy(self.company.preferences)})

    def read(self, request):
        store = self.company.readable(request.path_args["entity"])
        if store is None:
            return self.not_found(request)
        row = store.get(request.path_args["id"])
        if row is None:
            return self.fault("610", "Object Not Found", OBJECT_NOT_FOUND)
        return self.ok({store.name: copy.deepcopy(row)})

    def query(self, request):
        text = request.params.get("query", "") if request.method == "GET" else request.body.decode("utf-8")
        try:
            return self.ok({"QueryResponse": self.run_query(text)})
        except QueryError as exc:
            return self.fault(exc.code, exc.message, exc.detail)

    def run_query(self, text):
        """The ``QueryResponse`` for a query's text (a copy), or raises ``QueryError``."""
        parsed = parse(text, self.company.queryable)
        store = self.company.table(parsed.entity)
        return copy.deepcopy(run(parsed, store.visible_rows(), store.name_list))
