"""A month of a realistic Nexudus ledger moved to QuickBooks: cash as cash, credit as credit memos applied,
refunds only where they match, nothing else touched, and a second run writes nothing."""

from collections import defaultdict
from decimal import Decimal

from odoo.tests import tagged

from .common import FreshServicesCase
from .test_invoice_cron import CronMixin
from .transfer_common import complete_mappings, money, prepare_transfers, qbo_rows

ZERO = Decimal("0.00")


@tagged("standard", "post_install", "-at_install")
class TestLedgerMonth(CronMixin, FreshServicesCase):
    # 200 invoices over three locations with every kind of ledger entry the simulator keeps: each issued
    # invoice's debit, full and partial payments, credit notes allocated, account credit, gift cards,
    # refunds and reversed direct debits.
    world_sizes = {
        "seed": 21,
        "profile": "uk",
        "locations": 3,
        "customers": 40,
        "invoices": 200,
        "credit_notes": 14,
        "payments": 170,
    }

    def test_cash_credit_and_refunds_reach_quickbooks_by_their_meaning(self):
        company = prepare_transfers(self)
        complete_mappings(self)
        company.write({"nexudus_qbo_send_payments": True, "nexudus_qbo_auto_send_invoices": True})
        invoices = self.run_cron()
        rows = self.env["nexudus.qbo.payment"].search([("direction", "=", "nexudus_to_qbo")])
        ledger = self.nexudus.data.coworkerledgerentries.values()

        self.assertTrue(rows.filtered(lambda r: r.kind == "payment"))
        self.assertTrue(rows.filtered(lambda r: r.kind == "credit" and r.state == "sent"), "credit notes applied")
        self.assertTrue(rows.filtered(lambda r: r.kind == "refund" and r.state == "sent"), "refunds matched")
        charges = {e["Id"] for e in ledger if e["Debit"] and not e["PaymentGatewayName"]}
        self.assertFalse(charges & set(rows.mapped("nexudus_ledger_id")), "an invoice's charge is never a payment")
        unsettled = rows.filtered(lambda r: r.state not in ("sent", "held", "review"))
        self.assertFalse(unsettled, unsettled.mapped("reason"))
        review = rows.filtered(lambda r: r.state == "review")
        self.assertEqual({r._source()["PaymentGatewayName"] for r in review} - {995}, set(), review.mapped("reason"))
        held = rows.filtered(lambda r: r.state == "held")
        self.assertFalse(held.invoice_id.filtered(lambda i: i.transfer_state == "sent"), held.mapped("reason"))

        cash, credit = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
        for payment in qbo_rows(self, "Payment"):
            memo_applied = any(
                link.get("TxnType") == "CreditMemo" for line in payment["Line"] for link in line["LinkedTxn"]
            )
            for line in payment["Line"]:
                for link in line["LinkedTxn"]:
                    if link["TxnType"] == "Invoice":
                        (credit if memo_applied else cash)[link["TxnId"]] += money(line["Amount"])
        gifts = defaultdict(lambda: ZERO)
        for row in review:
            gifts[row.invoice_id.id] += money(row.amount)
        records = self.nexudus.data.coworkerinvoices
        sent = invoices.filtered(lambda r: r.transfer_state == "sent" and not r.is_credit_note)
        self.assertGreater(len(sent), 60)
        for row in sent:
            record = records[row.nexudus_id]
            self.assertEqual(cash[row.qbo_id], money(record["PaidAmount"]), f"cash on {row.number}")
            self.assertEqual(
                credit[row.qbo_id] + gifts[row.id], money(record["CreditedAmount"]), f"credit applied on {row.number}"
            )

        refunded = set(rows.filtered(lambda r: r.kind == "refund" and r.state == "sent").mapped("qbo_payment_id"))
        for payment in qbo_rows(self, "Payment"):
            row = rows.filtered(lambda r, p=payment: r.kind == "payment" and r.qbo_payment_id == p["Id"])
            if row and money(payment["TotalAmt"]) != money(row.amount):
                self.assertIn(payment["Id"], refunded, "only a matched refund voids or reduces a payment")

        writes = (len(self.qbo.writes), len(self.nexudus.writes))
        self.run_cron()
        self.assertEqual((len(self.qbo.writes), len(self.nexudus.writes)), writes, "a second run writes nothing")
