"""The Nexudus admin REST API simulator: a real HTTP server on 127.0.0.1.

    with NexudusSimulator(build_world(seed=3)) as sim:
        token = requests.post(sim.url + "/api/token", data={"grant_type": "password",
                              "username": "admin@example.com", "password": "secret"}).json()["access_token"]
        requests.get(sim.url + "/api/billing/coworkerinvoices", params={"size": 100},
                     headers={"Authorization": f"Bearer {token}"})

List and get of the entities in :data:`ENTITIES` (see :mod:`.query` for paging, sorting and filters,
:mod:`.auth` for sign-in). Lists return partial records: the collection fields in :data:`COLLECTIONS`
only come with a single GET (and ``InvoiceLines`` is empty even there, as on the live API), so clients
read lines from ``coworkerinvoicelines``. The batch get ``GET /api/billing/coworkerinvoices?id=[1,2]``
(documented for invoices only) answers a plain JSON array of partial records in the order asked, unknown
ids left out; a value that is not a bracketed list of ids gives ``[]``. The only writes are payments: a
ledger entry POST and the invoice commands (:mod:`.payments`). ``GET /`` is a read-only HTML overview for
people (:mod:`.overview`), outside the API.

The customer ledger is served as the simulator reads Nexudus keeping it (:mod:`.invoices` says which rows exist
and what is inferred). Test helpers change it the way people in Nexudus would (plain Python, see
:mod:`.payments`): ``sim.pay``, ``sim.refund``, ``sim.reverse_direct_debit``, ``sim.allocate_credit``,
``sim.add_gift``, besides ``sim.touch_invoice`` and ``sim.touch_line``. ``NexudusSimulator(world,
refunded_amount_reading="zero")`` keeps ``RefundedAmount`` at 0 after a refund, as FAUX saw live (default
"amount": it adds up the refunds).

Request limits (:mod:`.limits`) are on by default with Nexudus's documented values::

    NexudusSimulator(world)                                    # documented limits, 409 + Retry-After
    NexudusSimulator(world, limits=NexudusLimits(per_minute=10))
    NexudusSimulator(world, limits=NexudusLimits.unlimited())  # off: say why in the test
    NexudusSimulator(world, throttle_status=429)               # 429 "Wait N seconds." (uncertainty 7)

``sim.clock_offset`` (seconds added to the wall clock) moves the simulator's time: token expiry, stamps
and the limit windows. ``sim.throttled_count``, ``sim.throttled_by_account`` (email: count) and
``sim.throttle_log`` ((method, path, account, Retry-After seconds) per refusal) record throttles;
``sim.request_log`` keeps every request, throttled ones included.
"""

from functools import partial
from http import HTTPStatus

from ..httpbase import Response, SimulatorServer
from ..world import build_world
from . import query
from .auth import NexudusAuth
from .data import NexudusData
from .limits import WRITE_METHODS, NexudusLimits, RateLimiter, retry_after
from .overview import OverviewMixin
from .payments import PaymentsMixin
from .values import THROTTLED
from .webhooks import WebhooksMixin

# table name in NexudusData: (path under /api, entity name used in filter names)
ENTITIES = {
    "businesses": ("sys/businesses", "Business"),
    "coworkers": ("spaces/coworkers", "Coworker"),
    "coworkerinvoices": ("billing/coworkerinvoices", "CoworkerInvoice"),
    "coworkerinvoicelines": ("billing/coworkerinvoicelines", "CoworkerInvoiceLine"),
    "financialaccounts": ("billing/financialaccounts", "FinancialAccount"),
    "taxrates": ("sys/taxrates", "TaxRate"),
    "coworkerledgerentries": ("billing/coworkerledgerentries", "CoworkerLedgerEntry"),
}
COLLECTIONS = {"coworkerinvoices": ("InvoiceLines",), "coworkers": ("Businesses",)}
# Fields whose equality filter takes the ``[a,b]`` list form: only ``CoworkerInvoice_Id=[id1,id2]`` (OLDDOC).
LIST_FILTERS = {"coworkerinvoices": {"Id"}}
BATCH_GET = "coworkerinvoices"  # ``?id=[1,2]``, documented for invoices only

FAULT_MESSAGES = {
    409: THROTTLED,
    500: "An error has occurred.",
}


class NexudusSimulator(OverviewMixin, WebhooksMixin, PaymentsMixin, NexudusAuth, SimulatorServer):
    def __init__(
        self,
        world=None,
        port=0,
        limits=None,
        throttle_status=409,
        retry_after_on_429=False,
        refunded_amount_reading="amount",
        inclusive_reading="gross_unit_price",
        sign_in_errors="same",
        webhook_signing="signed",
    ):
        """``limits``: a :class:`~.limits.NexudusLimits` (None: the documented ones). ``throttle_status``: 409
        as documented, or 429 as observed live; ``retry_after_on_429`` adds the header in 429 mode.
        ``refunded_amount_reading``: "amount" (a refund adds to the invoice's ``RefundedAmount``) or "zero" (it
        stays 0, as FAUX saw with ``COWORKER_INVOICE_REFUND``), for the seeded refunds and later ones.
        ``inclusive_reading``: how a tax-inclusive location's lines read, "gross_unit_price" or "net_lines"
        (research uncertainty 10; :mod:`.invoices`). ``sign_in_errors``: "same" (an unknown email and a wrong
        password get one ``invalid_grant`` description) or "distinct" (an unknown email gets its own; :mod:`.auth`).
        ``webhook_signing``: "signed" (deliveries carry ``X-Nexudus-Hook-Signature`` keyed with ``sim.shared_secret``)
        or "unsigned" (uncertainty 11; :mod:`.webhooks`)."""
        if throttle_status not in (409, 429):
            raise ValueError(f"throttle_status must be 409 or 429, not {throttle_status!r}")
        self.world = world or build_world()
        self.data = NexudusData.from_world(self.world, refunded_amount_reading, inclusive_reading)
        self.init_auth(sign_in_errors)
        self.init_payments()
        self.init_webhooks(webhook_signing)
        self._faults = []  # prepared answers for the next API calls (None: drop the connection)
        self.limiter = RateLimiter(limits or NexudusLimits())
        self.throttle_status = throttle_status
        self.retry_after_on_429 = retry_after_on_429
        self.throttled_count = 0
        self.throttled_by_account = {}  # email: requests refused by the limits
        self.throttle_log = []  # (method, path, account, Retry-After seconds) of every refusal
        super().__init__(port)

    @property
    def limits(self):
        return self.limiter.limits

    @limits.setter
    def limits(self, limits):
        """Change the limits; the requests already counted stay in their windows."""
        self.limiter.limits = limits or NexudusLimits()

    def setup_routes(self):
        self.route("POST", r"/api/token", self.handle_token)
        for table, (path, entity) in ENTITIES.items():
            self.route("GET", rf"/api/{path}", self._guarded(partial(self.list_records, table, entity)))
            self.route("GET", rf"/api/{path}/(?P<record_id>\d+)", self._guarded(partial(self.get_record, table)))
        self.payment_routes()  # POST a ledger entry, run invoice commands (:mod:`.payments`)
        self.webhook_routes()  # the WebHook entity and the eWebhookAction enum (:mod:`.webhooks`)
        self.overview_routes()  # ``GET /``: the simulator's own read-only HTML page for people, not the API

    def _guarded(self, handler):
        def guarded(request):
            return self.authenticate(request) or handler(request)

        return guarded

    def dispatch(self, request):
        if request.path.startswith("/api/"):
            with self.lock:
                if self._faults:
                    return self._faults.pop(0)
            throttled = self.throttle(request)
            if throttled is not None:
                return throttled
        return super().dispatch(request)

    # -- request limits (see :mod:`.limits`) -------------------------------------------------------
    def account_of(self, request):
        """The email a request counts against: the token form's user for ``/api/token``, else the signed-in one."""
        if request.path.rstrip("/") == "/api/token":
            form = request.form() if request.body else {}
            if form.get("grant_type") == "refresh_token":
                with self.lock:
                    entry = self.refresh_tokens.get(form.get("refresh_token"))
                user = self.data.api_users.get(entry[0]) if entry else None
                return user["Email"] if user else None
            username = (form.get("username") or "").strip().lower()
            return username or None
        user = self.api_user(request)
        return user["Email"] if user else None

    def throttle(self, request):
        """None if the request is within the limits (it is then counted), else the throttle answer."""
        try:
            account = self.account_of(request)
        except (UnicodeDecodeError, ValueError):
            account = None
        if account is None:
            return None
        with self.lock:
            wait = self.limiter.check(account, request.method in WRITE_METHODS, self.now())
            if wait is None:
                return None
            seconds = retry_after(wait)
            self.throttled_count += 1
            self.throttled_by_account[account] = self.throttled_by_account.get(account, 0) + 1
            self.throttle_log.append((request.method, request.path, account, seconds))
        if self.throttle_status == 429:
            headers = {"Retry-After": str(seconds)} if self.retry_after_on_429 else {}
            return Response(429, {"Message": f"Too many requests. Wait {seconds} seconds."}, headers)
        return Response(409, {"Message": THROTTLED}, {"Retry-After": str(seconds)})

    # -- handlers ----------------------------------------------------------------------------------
    def list_records(self, table, entity, request):
        records = self.data.table(table)
        hidden = COLLECTIONS.get(table, ())
        with self.lock:
            if table == BATCH_GET and "id" in request.params:  # batch get: a plain array of partial records
                return Response(200, [_partial(records[i], hidden) for i in _batch_ids(request.params["id"], records)])
            envelope = query.listing(list(records.values()), entity, request.params, LIST_FILTERS.get(table, ()))
            envelope["Records"] = [_partial(record, hidden) for record in envelope["Records"]]
        return Response(200, envelope)

    def get_record(self, table, request):
        with self.lock:
            record = self.data.table(table).get(int(request.path_args["record_id"]))
            if record is None:
                return Response(404, {"Message": "Not found"})
            return Response(200, _copy(record))

    # -- helpers for tests and demos (plain Python, not HTTP) --------------------------------------
    def touch_invoice(self, invoice_id, updated_on=None, **changes):
        """Change an invoice between two syncs and bump its UpdatedOn (see NexudusData.touch_invoice)."""
        with self.lock:
            invoice = self.data.touch_invoice(invoice_id, updated_on, **changes)
            self.fire("CoworkerInvoiceUpdate", invoice)
            return dict(invoice)

    def touch_line(self, line_id, updated_on=None, **changes):
        """Change a line's own text fields and bump its UpdatedOn only (see NexudusData.touch_line)."""
        with self.lock:
            return dict(self.data.touch_line(line_id, updated_on, **changes))

    def reset_limits(self):
        """Forget every request counted so far (the throttle counters stay)."""
        with self.lock:
            self.limiter.reset()

    def fail_next(self, count=1, status=500, retry_after=None):
        """Make the next ``count`` calls under /api/ fail before any routing or authentication.

        ``status`` 409 is Nexudus's documented throttle (a ``Retry-After`` header is always sent,
        1 second unless ``retry_after`` says otherwise); 429 answers "Wait N seconds" as observed
        live; None drops the connection without an answer; any other status answers its reason.
        """
        if status is None:
            response = None
        else:
            seconds = retry_after or 1
            message = FAULT_MESSAGES.get(status, HTTPStatus(status).phrase)
            if status == 429:
                message = f"Too many requests. Wait {seconds} seconds."
            headers = {"Retry-After": str(seconds)} if status == 409 or retry_after else {}
            response = Response(status, {"Message": message}, headers)
        with self.lock:
            self._faults.extend([response] * count)


def _batch_ids(raw, records):
    """The known ids of a batch get's ``[1,2]``, in the order asked; none if the value is not such a list."""
    members = query.parse_list(raw)
    if not members or not all(member.isdigit() for member in members):
        return []
    return [int(member) for member in members if int(member) in records]


def _partial(record, hidden):
    """A list record: no collection properties (research §1.3, "Partial records")."""
    return {key: value for key, value in record.items() if key not in hidden}


def _copy(record):
    """A copy safe to serialise outside the lock (collections copied too)."""
    return {key: list(value) if isinstance(value, list) else value for key, value in record.items()}
