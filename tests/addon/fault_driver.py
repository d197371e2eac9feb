"""The fault suite's driver, shared by ``bin/faults`` (inside ``odoo shell``) and ``test_fault_suite.py``.

For one seed: both simulators for a small seeded world, with a :class:`~simulators.chaos.FaultPlan` of that seed;
the company prepared as an operator would (committed, faults off); then, faults on, the scheduled action driven as
Odoo's cron worker drives it (``_acquire_one_job``, ``_process_job``), until quiet. Around the runs:

* the worker dies at the crash points the plan picks: after QuickBooks or Nexudus answered and before the result
  is committed (an invoice's ``_record_sent``, a payment's ``_done``), its database connection closed as a killed
  process's would be (its session advisory locks go with it); the next run recovers;
* in the runs the plan picks, a second worker (a person's "Send" on every invoice and payment still to move) runs
  at the same moment, in its own transaction;
* once invoices are in QuickBooks, a person receives payments against three of them in QuickBooks (payments the
  other way).

Clients' time is scaled down so that a seed takes a minute, not an hour: their timeout is the plan's
``client_timeout`` (the simulator sleeps past it) and a QuickBooks 429, which says no wait, is waited
``UNKNOWN_WAIT`` seconds instead of a whole minute. Then :func:`check` compares Odoo's rows with what the
simulators hold; every problem is a line of text.
"""

import re
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from datetime import timezone
from decimal import Decimal
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError

from odoo.addons.nexudus_qbo_connector.tools.errors import ApiError
from odoo.addons.nexudus_qbo_connector.tools.http_client import ApiClient
from odoo.addons.nexudus_qbo_connector.tools.qbo_client import QboOAuth

from simulators.chaos import FaultPlan
from simulators.nexudus.server import NexudusSimulator
from simulators.qbo.server import QboSimulator
from simulators.world import build_world

from .common import ADDON, point_company_at

CRON = f"{ADDON}.ir_cron_nexudus_qbo_sync"
SIZES = {"profile": "uk", "locations": 3, "customers": 12, "invoices": 40, "credit_notes": 4, "payments": 20}
UNKNOWN_WAIT = 3.0
SOON = 30.0  # a trigger this close is waited for; a later one means the run is idle: a webhook triggers it
PENDING_INVOICES = ("to_send", "sending", "to_void", "to_delete")
PENDING_PAYMENTS = ("to_send", "sending")
SKIP_REASONS = ("Draft in Nexudus", "Already transferred by Nexudus", "Voided in Nexudus before", "Waiting for its")
INVOICE_MARKER = re.compile(r"\[nexudus-invoice (\d+)\]")
PAYMENT_MARKER = re.compile(r"\[nexudus-payment (-?\d+)\]")
QBO_MARKER = re.compile(r"\[qbo-payment (\w+)\]")
CENT = Decimal("0.01")


class WorkerCrash(BaseException):
    """The Odoo worker died (a BaseException: nothing in Odoo or the connector catches it)."""


def money(value):
    return Decimal(str(value if value is not None else 0)).quantize(CENT)


def start_simulators(seed, sizes=None):
    """Both simulators for the seed's world at their documented limits, sharing the seed's (inactive) plan."""
    world = build_world(seed=seed, **(sizes or SIZES))
    nexudus, qbo = NexudusSimulator(world).start(), QboSimulator(world).start()
    qbo.set_preferences("SalesFormsPrefs", AutoApplyCredit=False, AutoApplyPayments=False)
    nexudus.fault_plan = qbo.fault_plan = FaultPlan(seed)
    return nexudus, qbo


def _env(cr, company_id=None):
    return api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [company_id]} if company_id else {})


def prepare_company(registry, nexudus, qbo, company_id=None, realm_id=None, locations=None):
    """What an operator does once (bin/demo_setup.py's steps, the seed's near-misses mapped by hand), committed
    step by step; returns the company's id. ``company_id`` (the user's company by default) is connected to the
    QuickBooks company ``realm_id`` (the simulator's first by default) and serves the Nexudus ``locations`` (ids;
    every one by default)."""
    steps = []

    def step(work):
        steps.append(work)

    @step
    def endpoints(env):
        point_company_at(env, nexudus, qbo)

    @step
    def connect(env):
        company = env.company
        company._nexudus_locations()
        if locations:
            served = company.nexudus_location_ids
            company.nexudus_location_ids = served.filtered(lambda loc: loc.nexudus_id in locations)
        redirect = qbo.authorize(
            "sim-client-id",
            company._qbo_oauth().redirect_uri,
            "state",
            "com.intuit.quickbooks.accounting",
            realm_id=realm_id,
        )
        query = dict(part.split("=", 1) for part in redirect.split("?", 1)[1].split("&"))
        company._qbo_finish_connect(query["code"], query["realmId"])

    @step
    def charts(env):
        env.company._nexudus_qbo_refresh_chart()

    @step
    def items(env):
        company = env.company
        maps = env["nexudus.qbo.account.map"].search([("company_id", "=", company.id)])
        near_miss = env["nexudus.qbo.account"].search([("company_id", "=", company.id), ("acct_num", "=", "evt-001")])
        maps.filtered(lambda m: m.nexudus_code == "EVT-001").qbo_account_id = near_miss
        maps.filtered(
            lambda m: m.qbo_account_id and not m.qbo_item_id and m.nexudus_type != "payments"
        ).action_create_items()

    @step
    def settings(env):
        company = env.company
        codes = env["nexudus.qbo.tax.code"]
        five = codes.search([("company_id", "=", company.id), ("rate", "=", 5), ("tax_group", "=", False)], limit=1)
        env["nexudus.qbo.tax.map"].search(
            [("company_id", "=", company.id), ("nexudus_name", "=", "Zero-rated")]
        ).qbo_tax_code_id = five
        maps = env["nexudus.qbo.account.map"].search(
            [("company_id", "=", company.id), ("nexudus_code", "=", "PAY-001")]
        )
        company.write(
            {
                "nexudus_qbo_payments_account_id": maps.qbo_account_id.filtered("is_deposit_account")[:1].id,
                "nexudus_qbo_default_tax_code_id": codes.search(
                    [("company_id", "=", company.id), ("rate", "=", 0), ("tax_group", "=", False)],
                    order="name",
                    limit=1,
                ).id,
                "nexudus_qbo_auto_send_invoices": True,
                "nexudus_qbo_send_payments": True,
                "nexudus_qbo_reconcile_payments": True,
                "nexudus_qbo_auto_pull_payments": True,
            }
        )

    for work in steps:
        with registry.cursor() as cr:
            work(_env(cr, company_id))
    with registry.cursor() as cr:
        return _env(cr, company_id).company.id


@contextmanager
def faults_in_odoo(registry, plan):
    """The plan's crash points in the connector, and the clients' time scaled down (see the module's doc).
    Yields the set of the threads whose worker died: whatever Odoo raises afterwards on the dead connection
    (its handlers try to roll back, log and record progress) is how that worker ended."""
    died = set()

    def crashing(method, point):
        def wrapper(self, *args, **kw):
            if plan.crash(*point(self)):
                died.add(threading.get_ident())
                self.env.cr._cnx.close()  # a killed worker's connection: its transaction and locks are gone
                raise WorkerCrash(f"{self._name} {self.id}: the worker died before committing the answer")
            return method(self, *args, **kw)

        return wrapper

    invoices, payments = registry["nexudus.qbo.invoice"], registry["nexudus.qbo.payment"]
    with ExitStack() as stack:
        stack.enter_context(patch.object(ApiClient, "timeout", plan.client_timeout))
        stack.enter_context(patch.object(QboOAuth, "timeout", plan.client_timeout))
        stack.enter_context(patch.object(ApiClient, "default_throttle_wait", UNKNOWN_WAIT))
        sent = crashing(invoices._record_sent, lambda row: ("invoice", row.nexudus_id))
        done = crashing(payments._done, lambda row: ("payment", row.nexudus_ledger_id or row.qbo_payment_id))
        stack.enter_context(patch.object(invoices, "_record_sent", sent))
        stack.enter_context(patch.object(payments, "_done", done))
        yield died


def _utc_epoch(naive):
    return naive.replace(tzinfo=timezone.utc).timestamp()


class Driver:
    """Runs the scheduled action for one company until quiet; ``say`` prints progress."""

    def __init__(self, registry, company_id, nexudus, qbo, say=print, max_runs=40):
        self.registry, self.company_id, self.nexudus, self.qbo = registry, company_id, nexudus, qbo
        self.plan = qbo.fault_plan
        self.say = say
        self.max_runs = max_runs
        self.runs = 0
        self.person_payments = []  # (QuickBooks payment id, QuickBooks invoice id, amount) received by a person
        self.died = set()

    def run(self):
        """Drive until quiet; returns the outcome ("quiet" or why it stopped)."""
        with self.registry.cursor() as cr:
            cron_id = _env(cr).ref(CRON).id
        previous = None
        self.plan.active = True
        try:
            with faults_in_odoo(self.registry, self.plan) as self.died:
                while self.runs < self.max_runs:
                    if not self._run_once(cron_id):
                        continue
                    if not self.person_payments:
                        self._receive_in_qbo()
                    snapshot = self._snapshot()
                    if snapshot == previous and self._quiet():
                        return "quiet"
                    previous = snapshot
        finally:
            self.plan.active = False
        return f"not quiet after {self.max_runs} runs"

    def _run_once(self, cron_id):
        """One scheduled run when the job is ready (with a second worker when the plan says); else wait for a
        trigger due soon, or trigger the job now as a webhook would. Returns whether a run happened."""
        IrCron = self.registry["ir.cron"]
        job = second = None
        try:
            with self.registry.cursor() as cron_cr:
                job = IrCron._acquire_one_job(cron_cr, cron_id)
                if job:
                    self.runs += 1
                    if self.plan.second_worker(self.runs):
                        second = threading.Thread(target=self._second_worker, name="second-worker")
                        second.start()
                    IrCron._process_job(cron_cr, job)
        except BaseException:
            if threading.get_ident() not in self.died:
                raise
            self.died.discard(threading.get_ident())
            self.say(f"    run {self.runs}: the worker died")
        finally:
            if second:
                second.join(timeout=300)
        if job:
            return True
        with self.registry.cursor() as cr:
            env = _env(cr)
            cr.execute("SELECT min(call_at) FROM ir_cron_trigger WHERE cron_id = %s", (cron_id,))
            trigger = cr.fetchone()[0]
            wait = _utc_epoch(trigger) - time.time() if trigger else None
            if wait is None or wait > SOON:
                env["ir.cron"].browse(cron_id)._trigger()
                return False
        time.sleep(max(wait, 0) + 0.2)
        return False

    def _second_worker(self):
        """A person's "Send" on every invoice and payment still to move, at the same moment as the run."""
        try:
            with self.registry.cursor() as cr:
                env = _env(cr)
                company = [("company_id", "=", self.company_id)]
                invoices = env["nexudus.qbo.invoice"].search(
                    [*company, ("transfer_state", "in", ("to_send", "sending"))]
                )
                payments = env["nexudus.qbo.payment"].search(
                    [*company, ("state", "in", ("to_send", "sending", "held"))]
                )
                for rows in (invoices, payments):
                    try:
                        rows._send_now()
                    except (ApiError, UserError) as exc:  # what the person's notification says
                        self.say(f"    second worker: {exc}")
        except BaseException:
            if threading.get_ident() not in self.died:
                raise
            self.died.discard(threading.get_ident())
            self.say("    the second worker died")

    def _receive_in_qbo(self):
        """A person receives, in QuickBooks, the whole balance of (up to) three invoices whose Nexudus ledger has
        no payment, credit or refund."""
        with self.registry.cursor() as cr:
            rows = _env(cr)["nexudus.qbo.invoice"].search(
                [("company_id", "=", self.company_id), ("transfer_state", "=", "sent"), ("is_credit_note", "=", False),
                 ("payment_ids", "=", False)], order="nexudus_id")  # fmt: skip
            candidates = [(row.nexudus_id, row.qbo_id) for row in rows]
        with self.nexudus.lock:
            moved = {e["CoworkerInvoiceId"] for e in self.nexudus.data.coworkerledgerentries.values() if _moves(e)}
        chosen = []
        for nexudus_id, qbo_id in candidates:
            record = self.nexudus.data.coworkerinvoices[nexudus_id]
            document = self.qbo.company.table("Invoice").get(qbo_id)
            untouched = nexudus_id not in moved and money(document["Balance"]) == money(document["TotalAmt"])
            if untouched and money(record.get("DueAmount")) > 0:
                chosen.append((qbo_id, money(document["Balance"])))
        for qbo_id, amount in chosen[:3]:
            payment = self.qbo.record_payment(qbo_id, amount, payment_method_name="Check")
            self.person_payments.append((payment["Id"], qbo_id, amount))
        if self.person_payments:
            self.say(f"    a person received {len(self.person_payments)} payments in QuickBooks")

    def _snapshot(self):
        with self.registry.cursor() as cr:
            cr.execute("SELECT id, transfer_state, qbo_id FROM nexudus_qbo_invoice WHERE company_id = %s ORDER BY id",
                       (self.company_id,))  # fmt: skip
            invoices = cr.fetchall()
            cr.execute("SELECT id, state, qbo_payment_id, nexudus_ledger_id FROM nexudus_qbo_payment "
                       "WHERE company_id = %s ORDER BY id", (self.company_id,))  # fmt: skip
            return invoices, cr.fetchall()

    def _quiet(self):
        """Nothing left to move: no invoice or payment pending, none held for an invoice already sent, and the
        payments received in QuickBooks are all known."""
        with self.registry.cursor() as cr:
            env = _env(cr)
            company = [("company_id", "=", self.company_id)]
            if env["nexudus.qbo.invoice"].search_count([*company, ("transfer_state", "in", PENDING_INVOICES)]):
                return False
            payments = env["nexudus.qbo.payment"]
            if payments.search_count([*company, ("state", "in", PENDING_PAYMENTS)]):
                return False
            if payments.search_count([*company, ("state", "=", "held"), *payments._released()]):
                return False
            known = set(payments.search([*company, ("direction", "=", "qbo_to_nexudus")]).mapped("qbo_payment_id"))
        return {p[0] for p in self.person_payments} <= known


def check(registry, company_id, nexudus, qbo, person_payments):
    """What Odoo holds against what both simulators hold; returns (problems, counts)."""
    problems = []
    counts = Counter()
    with registry.cursor() as cr:
        env = _env(cr)
        company = env["res.company"].browse(company_id)
        invoices = env["nexudus.qbo.invoice"].search([("company_id", "=", company_id)])
        payments = env["nexudus.qbo.payment"].search([("company_id", "=", company_id)])
        _check_invoices(invoices, nexudus, qbo, problems, counts)
        from_nexudus = payments.filtered(lambda p: p.direction == "nexudus_to_qbo")
        _check_ledger_read(invoices, from_nexudus, nexudus, problems)
        _check_nexudus_payments(from_nexudus, qbo, problems, counts)
        _check_qbo_payments(payments.filtered(lambda p: p.direction == "qbo_to_nexudus"), nexudus, person_payments,
                            problems, counts)  # fmt: skip
        _check_tokens(env, company, nexudus, qbo, problems)
    return problems, counts


def _check_invoices(rows, nexudus, qbo, problems, counts):
    by_id = {row.nexudus_id: row for row in rows}
    missing = sorted(set(nexudus.data.coworkerinvoices) - set(by_id))
    if missing:
        problems.append(f"lost: Nexudus invoices never mirrored in Odoo: {missing}")
    documents = {}
    for entity in ("Invoice", "CreditMemo"):
        for document in qbo.company.table(entity).rows.values():
            found = INVOICE_MARKER.search(document.get("PrivateNote") or "")
            if found:
                documents.setdefault(int(found.group(1)), []).append((entity, document))
    for nexudus_id, found in sorted(documents.items()):
        if len(found) > 1:
            problems.append(f"duplicate: Nexudus invoice {nexudus_id} is in QuickBooks {len(found)} times: "
                            f"{[(e, d['Id']) for e, d in found]}")  # fmt: skip
        row = by_id.get(nexudus_id)
        entity, document = found[0]
        if row is None or row.transfer_state not in ("sent", "voided") or row.qbo_id != document["Id"]:
            state = (row.transfer_state, row.qbo_id) if row else "no row"
            problems.append(
                f"state: QuickBooks {entity} {document['Id']} of Nexudus invoice {nexudus_id}, Odoo {state}"
            )
    for row in rows:
        counts[f"invoice {row.transfer_state}"] += 1
        label = f"{row.display_name} (Nexudus {row.nexudus_id})"
        if row.transfer_state == "sent":
            entity = "CreditMemo" if row.is_credit_note else "Invoice"
            document = qbo.company.table(entity).get(row.qbo_id)
            if (
                document is None
                or INVOICE_MARKER.search(document.get("PrivateNote") or "") is None
                or int(INVOICE_MARKER.search(document["PrivateNote"]).group(1)) != row.nexudus_id
            ):
                problems.append(f"state: {label} is sent as {entity} {row.qbo_id}, which QuickBooks does not hold")
                continue
            expected = abs(money(nexudus.data.coworkerinvoices[row.nexudus_id]["TotalAmount"]))
            # Odoo signs a credit note's QuickBooks total as Nexudus does (negative); QuickBooks shows it positive.
            if money(document["TotalAmt"]) != expected or abs(money(row.qbo_total)) != expected:
                problems.append(f"total: {label}: QuickBooks {document['TotalAmt']}, Odoo {row.qbo_total}, "
                                f"Nexudus {expected}")  # fmt: skip
        elif row.transfer_state == "voided":
            if row.qbo_id and ("Invoice", row.qbo_id) not in qbo.voided:
                problems.append(f"state: {label} is voided, QuickBooks Invoice {row.qbo_id} is not")
        elif row.transfer_state == "skipped":
            if not (row.transfer_reason or "").startswith(SKIP_REASONS):
                problems.append(f"lost: {label} skipped: {row.transfer_reason}")
        else:
            problems.append(f"lost: {label} ends {row.transfer_state}: {row.transfer_reason or ''}".strip())


def _moves(entry):
    """Whether a Nexudus ledger entry moves money or credit (a payment method's or credit's, a refund, a failed
    direct debit), as opposed to recording a document."""
    return entry.get("PaymentGatewayName") is not None or entry.get("Code") in ("REFUND", "DDFAIL")


def _check_ledger_read(invoices, rows, nexudus, problems):
    """Every Nexudus ledger entry that moves money or credit on an invoice the connector transfers (a payment
    method's or credit's, a refund, a failed direct debit) has its row; a credit note's own entries (the credit
    it gives, where it was used) are the invoices' rows."""
    transferred = {row.nexudus_id for row in invoices if not (row.transferred_by_nexudus or row.is_credit_note)}
    read = set(rows.mapped("nexudus_ledger_id"))
    unread = sorted(
        entry["Id"]
        for entry in nexudus.data.coworkerledgerentries.values()
        if entry.get("CoworkerInvoiceId") in transferred
        and _moves(entry)
        and not QBO_MARKER.search(entry.get("Description") or "")
        and entry["Id"] not in read
    )
    if unread:
        problems.append(f"lost: Nexudus ledger entries never read into payments: {unread}")


def _check_nexudus_payments(rows, qbo, problems, counts):
    by_entry = {row.nexudus_ledger_id: row for row in rows}
    refunded = Counter()  # QuickBooks payment id: what refunds took back from it
    for row in rows.filtered(lambda r: r.kind == "refund" and r.state == "sent"):
        refunded[row.qbo_payment_id] -= money(row.amount)
    made = {}
    for payment in qbo.company.table("Payment").rows.values():
        found = PAYMENT_MARKER.search(payment.get("PrivateNote") or "")
        if found:
            made.setdefault(int(found.group(1)), []).append(payment)
    for entry_id, found in sorted(made.items()):
        if len(found) > 1:
            problems.append(f"duplicate: Nexudus payment {entry_id} is in QuickBooks {len(found)} times: "
                            f"{[p['Id'] for p in found]}")  # fmt: skip
        row = by_entry.get(entry_id)
        if row is None or row.state != "sent" or row.qbo_payment_id != found[0]["Id"]:
            state = (row.state, row.qbo_payment_id) if row else "no row"
            problems.append(f"state: QuickBooks payment {found[0]['Id']} of Nexudus entry {entry_id}, Odoo {state}")
    for row in rows:
        counts[f"payment to QuickBooks {row.state}"] += 1
        label = f"{row.display_name} (Nexudus entry {row.nexudus_ledger_id})"
        if row.state == "sent" and row.kind != "refund":
            payment = qbo.company.table("Payment").get(row.qbo_payment_id)
            if payment is None:
                problems.append(f"state: {label} is sent as QuickBooks payment {row.qbo_payment_id}, not there")
                continue
            amount = money(payment["TotalAmt"] if row.kind == "payment" else payment["Line"][0]["Amount"])
            if amount != money(row.amount) - refunded[row.qbo_payment_id]:
                problems.append(f"total: {label}: QuickBooks {amount}, Nexudus {row.amount} less refunds "
                                f"{refunded[row.qbo_payment_id]}")  # fmt: skip
        elif row.state == "held":
            if row.waiting_for == "invoice" and row.invoice_id.transfer_state == "sent":
                problems.append(f"lost: {label} held for its invoice, which is sent")
            elif row.waiting_for not in ("invoice", "credit_note"):
                problems.append(f"lost: {label} held: {row.reason}")
        elif row.state in ("review", "attention"):
            counts[f"left for a person: {(row.reason or '').split(': ', 1)[-1][:60]}"] += 1
        elif row.state != "sent":
            problems.append(f"lost: {label} ends {row.state}: {row.reason or ''}".strip())


def _check_qbo_payments(rows, nexudus, person_payments, problems, counts):
    entries = {}
    for entry in nexudus.data.coworkerledgerentries.values():
        found = QBO_MARKER.search(entry.get("Description") or "")
        if found:
            entries.setdefault(found.group(1), []).append(entry)
    rows_by_payment = {row.qbo_payment_id: row for row in rows}
    for payment_id, _invoice, amount in person_payments:
        found = entries.get(payment_id, [])
        row = rows_by_payment.get(payment_id)
        counts[f"payment to Nexudus {row.state if row else 'not found'}"] += 1
        if len(found) > 1:
            problems.append(f"duplicate: QuickBooks payment {payment_id} is in Nexudus {len(found)} times")
        if not found:
            problems.append(f"lost: QuickBooks payment {payment_id} is not in Nexudus")
        elif money(found[0]["Credit"]) != amount:
            problems.append(f"total: QuickBooks payment {payment_id} of {amount} is {found[0]['Credit']} in Nexudus")
        if row is None or row.state != "sent" or (found and row.nexudus_ledger_id != found[0]["Id"]):
            state = (row.state, row.nexudus_ledger_id) if row else "no row"
            problems.append(
                f"state: QuickBooks payment {payment_id} in Nexudus as {[e['Id'] for e in found]}, Odoo {state}"
            )
    unexpected = set(entries) - {p[0] for p in person_payments}
    if unexpected:
        problems.append(f"state: Nexudus entries for QuickBooks payments no person made: {sorted(unexpected)}")


def _check_tokens(env, company, nexudus, qbo, problems):
    tokens = env["nexudus.qbo.token"]
    row = tokens._get(company, "qbo")
    current = qbo.refresh_tokens.get(row.refresh_token)
    if row.state != "connected" or current is None or current.grant.revoked or current.grant.current is not current:
        problems.append(f"tokens: the QuickBooks refresh token Odoo holds is not the grant's current one ({row.state})")
    row = tokens._get(company, "nexudus")
    if row.refresh_token not in nexudus.refresh_tokens:
        problems.append("tokens: the Nexudus refresh token Odoo holds is no longer valid")


COMPANY_FIELDS = (
    "nexudus_email", "nexudus_password", "qbo_client_id", "qbo_client_secret", "qbo_realm_id", "qbo_company_name",
    "qbo_country", "qbo_oauth_nonce", "qbo_multicurrency", "nexudus_qbo_auto_send_invoices",
    "nexudus_qbo_send_payments", "nexudus_qbo_reconcile_payments", "nexudus_qbo_auto_pull_payments",
    "qbo_payment_cursor", "qbo_preferences_json", "qbo_preferences_at", "nexudus_qbo_checked_at",
)  # fmt: skip
# The connector's tables, references first (invoice lines go with their invoice).
CONNECTOR_TABLES = (
    "nexudus_qbo_payment",
    "nexudus_qbo_payment_method_map",
    "nexudus_qbo_preflight",
    "nexudus_qbo_invoice",
    "nexudus_qbo_coworker",
    "nexudus_qbo_customer_link",
    "nexudus_qbo_customer",
    "nexudus_qbo_account_map",
    "nexudus_qbo_tax_map",
    "nexudus_qbo_item",
    "nexudus_qbo_financial_account",
    "nexudus_qbo_tax_rate",
    "nexudus_qbo_token",
    "nexudus_qbo_account",
    "nexudus_qbo_tax_code",
    "nexudus_qbo_location",
)
PARAMS = ("nexudus_api_url", "qbo_api_url", "intuit_authorize_url", "intuit_token_url", "intuit_revoke_url")


def saved_settings(registry):
    """The company's settings and endpoints as they are, for :func:`wipe` to put back."""
    with registry.cursor() as cr:
        env = _env(cr)
        params = {key: env["ir.config_parameter"].get_param(f"{ADDON}.{key}") for key in PARAMS}
        return env.company.id, env.company.read(COMPANY_FIELDS)[0], params


def wipe(registry, saved):
    """Forget what a seed left in the database (what test_concurrent_runs wipes, plus payments, payment methods,
    tokens and the scheduled action's triggers) and put the saved settings and cursors back."""
    company_id, values, params = saved
    with registry.cursor() as cr:
        cr.execute("DELETE FROM mail_message WHERE model LIKE 'nexudus.qbo.%%'")
        cr.execute("DELETE FROM mail_activity WHERE res_model LIKE 'nexudus.qbo.%%'")
        cr.execute(
            """UPDATE res_company SET nexudus_qbo_default_tax_code_id = NULL, nexudus_qbo_payments_account_id = NULL,
                                      qbo_home_currency = NULL, nexudus_coworker_cursor = NULL WHERE id = %s""",
            (company_id,),
        )
        for table in CONNECTOR_TABLES:
            cr.execute(f"DELETE FROM {table} WHERE company_id = %s", (company_id,))  # noqa: S608
        cr.execute("DELETE FROM nexudus_qbo_rate_budget")
        cr.execute("DELETE FROM nexudus_qbo_run")
        cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = (SELECT res_id FROM ir_model_data "
                   "WHERE module = %s AND name = 'ir_cron_nexudus_qbo_sync')", (ADDON,))  # fmt: skip
    with registry.cursor() as cr:
        env = _env(cr)
        env.invalidate_all()
        for key, value in params.items():
            env["ir.config_parameter"].set_param(f"{ADDON}.{key}", value or False)
        env["res.company"].browse(company_id).write({key: values[key] for key in COMPANY_FIELDS})
