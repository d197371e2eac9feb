"""The Nexudus admin REST API simulator: a real HTTP server on 127.0.0.1.

    with NexudusSimulator(build_world(seed=3)) as sim:
        token = requests.post(sim.url + "/api/token", data={"grant_type": "password",
                              "username": "admin@example.com", "password": "secret"}).json()["access_token"]
        requests.get(sim.url + "/api/billing/coworkerinvoices", params={"size": 100},
                     headers={"Authorization": f"Bearer {token}"})

List and get of the entities in :data:`ENTITIES` (see :mod:`.query` for paging, sorting and filters,
:mod:`.auth` for sign-in). Lists return partial records: the collection fields in :data:`COLLECTIONS`
only come with a single GET (and ``InvoiceLines`` is empty even there, as on the live API), so clients
read lines from ``coworkerinvoicelines``. The only writes are payments: a ledger entry POST and the
invoice commands (:mod:`.payments`). ``GET /`` is a read-only HTML overview for people (:mod:`.overview`),
outside the API.
"""

from functools import partial
from http import HTTPStatus

from ..httpbase import Response, SimulatorServer
from ..world import build_world
from . import query
from .auth import NexudusAuth
from .data import NexudusData
from .overview import OverviewMixin
from .payments import PaymentsMixin
from .values import THROTTLED

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

FAULT_MESSAGES = {
    409: THROTTLED,
    500: "An error has occurred.",
}


class NexudusSimulator(OverviewMixin, PaymentsMixin, NexudusAuth, SimulatorServer):
    def __init__(self, world=None, port=0):
        self.world = world or build_world()
        self.data = NexudusData.from_world(self.world)
        self.init_auth()
        self.init_payments()
        self._faults = []  # prepared answers for the next API calls (None: drop the connection)
        super().__init__(port)

    def setup_routes(self):
        self.route("POST", r"/api/token", self.handle_token)
        for table, (path, entity) in ENTITIES.items():
            self.route("GET", rf"/api/{path}", self._guarded(partial(self.list_records, table, entity)))
            self.route("GET", rf"/api/{path}/(?P<record_id>\d+)", self._guarded(partial(self.get_record, table)))
        self.payment_routes()  # POST a ledger entry, run invoice commands (:mod:`.payments`)
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
        return super().dispatch(request)

    # -- handlers ----------------------------------------------------------------------------------
    def list_records(self, table, entity, request):
        records = self.data.table(table)
        with self.lock:
            if "id" in request.params:  # batch get: ?id=[1,2] answers a plain array of full records
                ids = (part.strip() for part in request.params["id"].strip("[] ").split(","))
                return Response(200, [_copy(records[int(i)]) for i in ids if i.isdigit() and int(i) in records])
            envelope = query.listing(list(records.values()), entity, request.params)
            hidden = COLLECTIONS.get(table, ())
            envelope["Records"] = [{k: v for k, v in r.items() if k not in hidden} for r in envelope["Records"]]
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
            return dict(self.data.touch_invoice(invoice_id, updated_on, **changes))

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


def _copy(record):
    """A copy safe to serialise outside the lock (collections copied too)."""
    return {key: list(value) if isinstance(value, list) else value for key, value in record.items()}
