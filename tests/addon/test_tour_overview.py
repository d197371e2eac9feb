"""The overview in a real browser: a failed invoice found from its count, its mapping fixed, retried, counted."""

from collections import Counter
from contextlib import contextmanager

from odoo.tests import HttpCase, tagged

from .common import SimulatedServicesMixin
from .transfer_common import complete_mappings, import_invoices, prepare_transfers, send

OVERVIEW = "/odoo/action-nexudus_qbo_connector.action_nexudus_qbo_overview"


@tagged("post_install", "-at_install")
class TestOverviewTour(SimulatedServicesMixin, HttpCase):
    @contextmanager
    def enter_registry_test_mode(self):
        """HttpCase is in test mode already: what the helpers' other cursors write is seen as a TransactionCase
        sees it (flushed before, invalidated after)."""
        self.env.flush_all()
        try:
            yield
        finally:
            self.env.invalidate_all()

    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        complete_mappings(self)
        self.london = self.env["nexudus.qbo.location"].search([("name", "=", "London Bridge")])
        codes = self.env["nexudus.qbo.tax.code"]
        zero_code = codes.search([("name", "=", "Zero-rated"), ("company_id", "=", self.env.company.id)])
        self.zero_map = self.env["nexudus.qbo.tax.map"].search(
            [("location_id", "=", self.london.id), ("nexudus_name", "=", "Zero-rated")]
        )
        # A Manager's wrong choice: Nexudus's "Zero-rated" charges 5%, QuickBooks' code of that name 0%.
        self.zero_map.write({"qbo_tax_code_id": zero_code.id, "rate_difference_accepted": True})
        self.qbo.honour_tax_override = False  # QuickBooks computes the tax itself, as some companies have it
        invoices = import_invoices(self)
        self.invoice = invoices.filtered(self._fails_then_sends)[:1]
        self.assertTrue(self.invoice, "the seed has a London Bridge invoice with a Zero-rated line")
        send(self, self.invoice)
        self.assertEqual(self.invoice.transfer_state, "failed", self.invoice.transfer_reason)
        self.assertIn("check the tax codes mapped", self.invoice.transfer_reason)

    def _fails_then_sends(self, invoice):
        """A London Bridge invoice to send with a Zero-rated line, and each rate on one line only (QuickBooks then
        rounds the tax as Nexudus does)."""
        names = Counter(invoice.line_ids.mapped("tax_name"))
        return (
            invoice.location_id == self.london
            and invoice.transfer_state == "to_send"
            and not invoice.is_credit_note
            and names["Zero-rated"]
            and max(names.values()) == 1
        )

    def test_a_failed_invoice_from_its_count_to_sent_today(self):
        counts = self.london.read(["count_failed", "count_sent_today"])[0]
        self.assertEqual((counts["count_failed"], counts["count_sent_today"]), (1, 0))
        self.start_tour(OVERVIEW, "nexudus_qbo_overview_tour", login="admin")
        self.env.invalidate_all()
        self.assertEqual(self.zero_map.qbo_tax_code_id.name, "5.0% R")
        self.assertFalse(self.zero_map.rate_difference_accepted)
        self.assertEqual(self.invoice.transfer_state, "sent", self.invoice.transfer_reason)
        self.assertTrue(self.invoice.qbo_id)
        self.assertEqual((self.london.count_failed, self.london.count_sent_today), (0, 1))
