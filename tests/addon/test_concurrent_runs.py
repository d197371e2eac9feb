import re
import threading
from collections import Counter
from urllib.parse import parse_qs, urlsplit

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from .common import CommittedServicesCase

MARKER = re.compile(r"\[nexudus-invoice (\d+)\]")
# What the committed set-up leaves behind, wiped afterwards (invoice lines and messages go with them).
CONNECTOR_TABLES = (
    "nexudus_qbo_invoice",
    "nexudus_qbo_coworker",
    "nexudus_qbo_customer_link",
    "nexudus_qbo_customer",
    "nexudus_qbo_account_map",
    "nexudus_qbo_tax_map",
    "nexudus_qbo_item",
    "nexudus_qbo_financial_account",
    "nexudus_qbo_tax_rate",
)


@tagged("standard", "post_install", "-at_install")
class TestConcurrentRuns(CommittedServicesCase):
    """Two workers sending the same invoices at the same moment, each in its own database transaction."""

    world_sizes = {"seed": 13, "profile": "uk", "locations": 3, "customers": 4, "invoices": 24, "credit_notes": 2}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(cls._wipe)
        sales = cls.qbo.company.preferences["SalesFormsPrefs"]
        sales["AutoApplyCredit"] = sales["AutoApplyPayments"] = False
        steps = (cls._connect, cls._map, cls._import)
        for step in steps:
            with cls.registry.cursor() as cr:
                step(api.Environment(cr, SUPERUSER_ID, {}).company)

    @classmethod
    def _connect(cls, company):
        company._nexudus_locations()
        redirect = cls.qbo.authorize(
            "sim-client-id", company._qbo_oauth().redirect_uri, "state", "com.intuit.quickbooks.accounting"
        )
        query = parse_qs(urlsplit(redirect).query)
        company._qbo_finish_connect(query["code"][0], query["realmId"][0])

    @classmethod
    def _map(cls, company):
        company._nexudus_qbo_refresh_chart()
        maps = company.env["nexudus.qbo.account.map"].search([("company_id", "=", company.id)])
        maps.filtered(
            lambda m: m.qbo_account_id and not m.qbo_item_id and m.nexudus_type != "payments"
        ).action_create_items()
        company.nexudus_qbo_default_tax_code_id = company.env["nexudus.qbo.tax.code"].search(
            [("company_id", "=", company.id), ("rate", "=", 0), ("tax_group", "=", False)], limit=1
        )

    @classmethod
    def _import(cls, company):
        company.env["nexudus.qbo.invoice"]._as_connector()._import_company(company)

    @classmethod
    def _wipe(cls):
        with cls.registry.cursor() as cr:
            cr.execute("DELETE FROM mail_message WHERE model = 'nexudus.qbo.invoice'")
            for table in CONNECTOR_TABLES:
                cr.execute(f"DELETE FROM {table} WHERE company_id = %s", (cls.company_id,))  # noqa: S608
            cr.execute(
                """UPDATE res_company SET nexudus_qbo_default_tax_code_id = NULL, qbo_home_currency = NULL,
                                          nexudus_coworker_cursor = NULL WHERE id = %s""",
                (cls.company_id,),
            )
            cr.execute("DELETE FROM nexudus_qbo_rate_budget")  # the simulators' windows go with them
            cr.execute("DELETE FROM nexudus_qbo_run")
            cr.execute("DELETE FROM nexudus_qbo_account WHERE company_id = %s", (cls.company_id,))
            cr.execute("DELETE FROM nexudus_qbo_tax_code WHERE company_id = %s", (cls.company_id,))
            cr.execute("DELETE FROM nexudus_qbo_location WHERE company_id = %s", (cls.company_id,))

    def test_two_runs_at_once_send_each_invoice_once(self):
        with self.registry.cursor() as cr:
            invoices = api.Environment(cr, SUPERUSER_ID, {})["nexudus.qbo.invoice"]
            ids = invoices.search([("company_id", "=", self.company_id), ("transfer_state", "=", "to_send")]).ids
        self.assertGreater(len(ids), 5)
        barrier = threading.Barrier(2)
        errors = []

        def worker():
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    rows = env["nexudus.qbo.invoice"]._as_connector().browse(ids)  # a worker is the connector
                    rows.mapped("transfer_state")  # start the transaction before the other worker commits
                    barrier.wait(timeout=30)
                    rows._send_now()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        self.assertEqual(errors, [])

        with self.registry.cursor() as cr:
            rows = api.Environment(cr, SUPERUSER_ID, {})["nexudus.qbo.invoice"].browse(ids)
            states = Counter(rows.mapped("transfer_state"))
            sent = set(rows.filtered(lambda r: r.transfer_state == "sent").mapped("nexudus_id"))
        self.assertEqual(states, Counter({"sent": len(ids)}))
        documents = list(self.qbo.company.table("Invoice").rows.values())
        documents += list(self.qbo.company.table("CreditMemo").rows.values())
        markers = Counter(int(MARKER.search(d["PrivateNote"]).group(1)) for d in documents)
        self.assertEqual(set(markers), sent)
        self.assertEqual(max(markers.values()), 1, "no invoice twice in QuickBooks")
        creates = Counter(w[0] for w in self.qbo.writes if w[1] == "create")
        self.assertEqual(creates["Invoice"] + creates["CreditMemo"], len(ids))
        names = Counter(row["DisplayName"] for row in self.qbo.company.table("Customer").rows.values())
        self.assertEqual(max(names.values()), 1, "no customer twice in QuickBooks")
