import re
from collections import Counter

from odoo.tests import tagged

from .common import FreshServicesCase
from .test_invoice_cron import CronMixin
from .transfer_common import complete_mappings, money, prepare_transfers, qbo_rows

MARKER = re.compile(r"\[nexudus-invoice (\d+)\]")


@tagged("standard", "post_install", "-at_install")
class TestThousandInvoices(CronMixin, FreshServicesCase):
    """1,000 invoices over three locations — London (tax exclusive, GBP), Manchester (tax inclusive) and
    Dublin (EUR) — with drafts, voids, credit notes, long numbers, unmapped accounts and invoices Nexudus's
    own integration already transferred; both simulators at their documented limits, moved by the
    scheduled action alone. How fast is the benchmark's business (bin/bench), not this test's."""

    world_sizes = {"seed": 11, "profile": "uk", "locations": 3, "customers": 120, "invoices": 1000, "credit_notes": 40}

    def test_every_transferable_invoice_once_with_equal_totals(self):
        prepare_transfers(self)
        complete_mappings(self)
        self.env.company.nexudus_qbo_auto_send_invoices = True
        mark = len(self.nexudus.request_log)
        invoices = self.run_cron()
        nexudus_calls = [e for e in self.nexudus.request_log[mark:] if e[1].startswith("/api/")]
        self.assertLessEqual(len(nexudus_calls), 50, Counter(path for _method, path, _params in nexudus_calls))
        self.assertEqual(self.nexudus.throttled_count + self.qbo.throttled_count, 0, "the budget kept both under")

        records = self.nexudus.data.coworkerinvoices
        self.assertEqual(len(invoices), len(records))
        states = Counter(invoices.mapped("transfer_state"))
        self.assertEqual(set(states) - {"sent", "skipped", "failed"}, set(), states)
        for row in invoices.filtered(lambda r: r.transfer_state in ("skipped", "failed")):
            self.assertTrue(row.transfer_reason, row.number)
        self.assertFalse(
            invoices.filtered(lambda r: r.transfer_state == "failed"), "the seed has no QuickBooks refusal"
        )
        for reason in (
            "Draft in Nexudus",
            "Nexudus's own QuickBooks integration",
            "Voided in Nexudus before",
            "Waiting for its mappings",
        ):
            self.assertTrue(invoices.filtered(lambda r, text=reason: text in (r.transfer_reason or "")), reason)

        documents = qbo_rows(self, "Invoice") + qbo_rows(self, "CreditMemo")
        markers = Counter(int(MARKER.search(d.get("PrivateNote") or "").group(1)) for d in documents)
        self.assertEqual(max(markers.values()), 1, "no Nexudus invoice is in QuickBooks twice")
        sent = invoices.filtered(lambda r: r.transfer_state == "sent")
        self.assertEqual(set(markers), set(sent.mapped("nexudus_id")))
        by_marker = {int(MARKER.search(d["PrivateNote"]).group(1)): d for d in documents}
        for row in sent:
            self.assertEqual(
                money(by_marker[row.nexudus_id]["TotalAmt"]), abs(money(records[row.nexudus_id]["TotalAmount"]))
            )
        locations = set(sent.mapped("location_id.name"))
        self.assertEqual(locations, {"London Bridge", "Manchester Works", "Dublin Docks"})
        self.assertTrue(sent.filtered(lambda r: r.is_credit_note and r.qbo_credit_applied))
        self.assertTrue(sent.filtered(lambda r: len(r.number) > 21))
        self.assertTrue(any(d.get("CurrencyRef", {}).get("value") == "EUR" for d in documents))
        self.assertTrue(any(d.get("GlobalTaxCalculation") == "TaxInclusive" for d in documents))

        writes = len(self.qbo.writes)
        self.run_cron()
        self.assertEqual(len(self.qbo.writes), writes, "a second run creates nothing")
