from decimal import Decimal
from unittest.mock import patch

from odoo.sql_db import db_connect
from odoo.tests import tagged

from .common import FreshServicesCase
from .transfer_common import (
    complete_mappings,
    import_invoices,
    link_customers,
    money,
    prepare_transfers,
    qbo_rows,
    send,
)

TRANSFER = "odoo.addons.nexudus_qbo_connector.models.nexudus_qbo_invoice"


@tagged("standard", "post_install", "-at_install")
class TestInvoiceImport(FreshServicesCase):
    """Nexudus invoices mirrored in Odoo, incrementally, with the reason when one will not be sent."""

    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        self.invoices = import_invoices(self)
        self.data = self.nexudus.data

    def test_every_invoice_of_the_served_locations_is_mirrored_with_its_lines(self):
        self.assertEqual(sorted(self.invoices.mapped("nexudus_id")), sorted(self.data.coworkerinvoices))
        for row in self.invoices:
            self.assertEqual(len(row.line_ids), len(self.data.lines_of(row.nexudus_id)), row.number)
            record = self.data.coworkerinvoices[row.nexudus_id]
            self.assertEqual(money(row.amount_total), money(record["TotalAmount"]))
        self.assertTrue(all(self.invoices.mapped("location_id.invoice_cursor")))

    def test_states_and_reasons(self):
        by_id = {row.nexudus_id: row for row in self.invoices}
        for record in self.data.coworkerinvoices.values():
            row = by_id[record["Id"]]
            if record["Draft"]:
                self.assertEqual((row.transfer_state, row.nexudus_status), ("skipped", "draft"))
                self.assertIn("Draft in Nexudus", row.transfer_reason)
            elif record["QuickbooksInvoiceTransfered"]:
                self.assertEqual(row.transfer_state, "skipped")
                self.assertIn("Nexudus's own QuickBooks integration", row.transfer_reason)
            elif record["Void"]:
                self.assertIn("Voided in Nexudus before", row.transfer_reason)
        unmapped = self.invoices.filtered(lambda r: "Waiting for its mappings" in (r.transfer_reason or ""))
        self.assertTrue(unmapped, "the seed has invoices with unmapped accounts and near-miss tax rates")
        self.assertRegex(unmapped[0].transfer_reason, r"Invoice \S+, line \d+")
        self.assertRegex(unmapped[0].transfer_summary, r"^Invoice \S+, line \d+ .*Fix")
        self.assertIn("to_send", self.invoices.mapped("transfer_state"))

    def test_second_import_changes_nothing_and_a_change_in_nexudus_is_seen(self):
        stamps = {row.id: row.write_date for row in self.invoices}
        again = import_invoices(self)
        self.assertEqual(again, self.invoices)
        self.assertEqual({row.id: row.write_date for row in again}, stamps, "nothing re-written")
        target = self.invoices.filtered(lambda r: r.transfer_state == "to_send")[0]
        self.data.touch_invoice(target.nexudus_id, PurchaseOrder="PO-77")
        import_invoices(self)
        self.assertIn("PO-77", target.sudo().nexudus_json)

    def test_issued_draft_becomes_sendable(self):
        draft = self.invoices.filtered(lambda r: r.nexudus_status == "draft")[0]
        self.assertEqual(draft.transfer_state, "skipped")
        self.nexudus.data.touch_invoice(draft.nexudus_id, Draft=False, InvoiceNumber="LON-9999")
        import_invoices(self)
        self.assertEqual((draft.nexudus_status, draft.number), ("issued", "LON-9999"))
        self.assertNotIn("Draft", draft.transfer_reason or "")

    # -- nothing goes stale, and what people are told is what happened ------------------------------
    def _waiting(self, text):
        return self.invoices.filtered(lambda r: r.waiting_for_mappings and text in (r.transfer_reason or ""))

    def test_an_invoice_waiting_for_a_tax_mapping_is_to_send_once_it_is_saved_by_hand(self):
        waiting = self._waiting("Zero-rated")
        self.assertTrue(waiting)
        five = self.env["nexudus.qbo.tax.code"].search([("rate", "=", 5), ("tax_group", "=", False)], limit=1)
        self.env["nexudus.qbo.tax.map"].search([("nexudus_name", "=", "Zero-rated")]).qbo_tax_code_id = five
        self.assertFalse(waiting.filtered(lambda r: "Zero-rated" in (r.transfer_reason or "")), "no stale reason")
        ready = waiting.filtered(lambda r: r.transfer_state == "to_send")
        self.assertTrue(ready, "an invoice that waited for this mapping only is To send at once")
        self.assertEqual(ready.mapped("transfer_reason"), [False] * len(ready))
        self.assertFalse(any(ready.mapped("waiting_for_mappings")))

    def test_reset_to_automatic_releases_the_invoice_and_the_second_send_says_already_there(self):
        invoice = self.invoices.filtered(lambda r: r.transfer_state == "to_send" and not r.is_credit_note)[0]
        code = invoice.line_ids[0].account_code
        mapping = self.env["nexudus.qbo.account.map"].search(
            [("location_id", "=", invoice.location_id.id), ("nexudus_code", "=", code)]
        )
        mapping.qbo_account_id = False  # a wrong choice by hand
        invoice._as_connector()._evaluate()  # as the next run decides
        self.assertEqual((invoice.transfer_state, invoice.waiting_for_mappings), ("skipped", True))
        self.assertIn(code, invoice.transfer_reason)
        mapping.action_reset_to_automatic()
        self.assertEqual((invoice.transfer_state, invoice.transfer_reason), ("to_send", False))

        first = send(self, invoice)["params"]
        self.assertEqual((first["message"], first["type"]), ("1 created in QuickBooks.", "success"))
        writes = len(self.qbo.writes)
        second = send(self, invoice)["params"]
        self.assertEqual(len(self.qbo.writes), writes, "nothing created the second time")
        self.assertIn("Nothing done: 1 already there.", second["message"])
        self.assertIn("already in QuickBooks", second["message"])
        self.assertEqual(second["type"], "warning")

    def test_a_send_that_does_nothing_is_a_warning_with_the_first_reason(self):
        waiting = self._waiting("line")
        params = send(self, waiting)["params"]
        self.assertEqual(params["type"], "warning")
        self.assertIn(f"Nothing done: {len(waiting)} waiting for mappings.", params["message"])
        self.assertNotIn("created", params["message"])
        self.assertRegex(params["message"], r"First: Invoice \S+, line \d+ .*Fix")

    def test_refresh_says_what_it_did(self):
        row = self.invoices.filtered(lambda r: r.transfer_state == "to_send")[0]
        with self.enter_registry_test_mode():
            params = row.action_refresh_from_nexudus()["params"]
        self.assertEqual((params["message"], params["type"]), ("1 refreshed from Nexudus.", "success"))

    def test_a_reason_of_several_lines_is_posted_as_lines(self):
        waiting = self._waiting("line")[0]
        self.assertGreater(len(waiting.transfer_reason.splitlines()), 1)
        body = waiting.message_ids.filtered(lambda m: "Waiting for its mappings" in m.body)[0].body
        self.assertIn("<br>", body)
        self.assertNotIn("\n", body)
        waiting._post_reason("Invoice <b>1</b>:\nsecond line")
        self.assertEqual(waiting.message_ids[0].body, "<p>Invoice &lt;b&gt;1&lt;/b&gt;:<br>second line</p>")

    def test_pre_flight_counts_unmatched_mappings_and_the_invoices_waiting(self):
        company = self.env.company
        with self.enter_registry_test_mode():
            preflight = self.env["nexudus.qbo.preflight"]._run(company)
        line = preflight.line_ids.filtered(lambda r: r.name == "Mappings")
        accounts = self.env["nexudus.qbo.account.map"].search_count([("ready", "=", False)])
        taxes = self.env["nexudus.qbo.tax.map"].search_count([("ready", "=", False)])
        waiting = len(self.invoices.filtered("waiting_for_mappings"))
        self.assertTrue(accounts and waiting)
        self.assertEqual(line.status, "warning")
        self.assertIn(
            f"{accounts} account mappings and {taxes} tax mappings unmatched; {waiting} of {len(self.invoices)} "
            "invoices wait for them.",
            line.message,
        )
        self.assertIn("Mappings › Account mappings", line.fix)
        self.assertTrue(preflight.warnings)


@tagged("standard", "post_install", "-at_install")
class TestInvoiceTransfer(FreshServicesCase):
    """Sending to QuickBooks: exact totals, once, whatever goes wrong on the way."""

    world_sizes = {"seed": 7, "profile": "uk", "locations": 3, "customers": 12, "invoices": 60, "credit_notes": 8}

    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        complete_mappings(self)
        self.invoices = import_invoices(self)
        self.ready = self.invoices.filtered(lambda r: r.transfer_state == "to_send")

    def _qbo_documents(self, entity="Invoice"):
        return {row["Id"]: row for row in qbo_rows(self, entity)}

    def test_send_from_the_list_sends_the_selection_exactly(self):
        selection = self.ready.filtered(lambda r: not r.is_credit_note)[:5]
        action = self.env.ref("nexudus_qbo_connector.action_server_invoice_send")
        with self.enter_registry_test_mode():
            result = action.with_context(active_model="nexudus.qbo.invoice", active_ids=selection.ids).run()
        self.assertEqual(result["tag"], "display_notification")
        self.assertEqual(set(selection.mapped("transfer_state")), {"sent"})
        documents = self._qbo_documents()
        self.assertEqual(len(documents), len(selection))
        for row in selection:
            document = documents[row.qbo_id]
            record = self.nexudus.data.coworkerinvoices[row.nexudus_id]
            self.assertEqual(money(document["TotalAmt"]), money(record["TotalAmount"]), row.number)
            self.assertEqual(document["DocNumber"], row.qbo_doc_number)
            self.assertIn(f"[nexudus-invoice {row.nexudus_id}]", document["PrivateNote"])
        self.assertEqual((self.ready - selection).mapped("qbo_id"), [False] * len(self.ready - selection))

    def test_everything_transferable_once_and_a_second_run_creates_nothing(self):
        send(self, self.ready)
        self.assertEqual(set(self.ready.mapped("transfer_state")), {"sent"}, self.ready.mapped("transfer_reason"))
        invoices, memos = self._qbo_documents(), self._qbo_documents("CreditMemo")
        self.assertEqual(len(invoices) + len(memos), len(self.ready))
        writes = len(self.qbo.writes)
        send(self, self.invoices)
        self.assertEqual(len(self.qbo.writes), writes, "nothing written the second time")
        long_numbered = self.ready.filtered(lambda r: len(r.number or "") > 21)
        self.assertTrue(long_numbered)
        for row in long_numbered:
            self.assertEqual(len(row.qbo_doc_number), 21)
            self.assertIn(row.number, invoices[row.qbo_id]["PrivateNote"])

    def test_credit_note_becomes_a_credit_memo_applied_to_its_invoice(self):
        notes = self.ready.filtered(lambda r: r.is_credit_note and r.original_invoice_id.transfer_state == "to_send")
        self.assertTrue(notes)
        note = notes[0]
        send(self, note.original_invoice_id | note)
        self.assertEqual(note.transfer_state, "sent")
        memo = self._qbo_documents("CreditMemo")[note.qbo_id]
        self.assertEqual(money(memo["TotalAmt"]), -money(note.amount_total))
        self.assertTrue(note.qbo_credit_applied)
        invoice = self._qbo_documents()[note.original_invoice_id.qbo_id]
        self.assertEqual(money(invoice["Balance"]), money(invoice["TotalAmt"]) - money(memo["TotalAmt"]))

    def test_a_credit_note_sent_before_its_invoice_is_applied_once_the_invoice_is_sent(self):
        notes = self.ready.filtered(lambda r: r.is_credit_note and r.original_invoice_id.transfer_state == "to_send")
        note = notes[0]
        send(self, note)
        self.assertEqual(note.transfer_state, "sent")
        self.assertFalse(note.qbo_credit_applied, "its invoice is not in QuickBooks yet")
        send(self, note.original_invoice_id)
        self.assertTrue(note.qbo_credit_applied)
        memo = self._qbo_documents("CreditMemo")[note.qbo_id]
        invoice = self._qbo_documents()[note.original_invoice_id.qbo_id]
        self.assertEqual(money(invoice["Balance"]), money(invoice["TotalAmt"]) - money(memo["TotalAmt"]))

    def test_voided_in_nexudus_after_transfer_is_voided_in_quickbooks(self):
        row = self.ready.filtered(lambda r: not r.is_credit_note)[0]
        send(self, row)
        self.nexudus.data.touch_invoice(row.nexudus_id, Void=True)
        with self.enter_registry_test_mode():  # Sync now › Invoices from Nexudus voids it, as a run would
            action = self.env["nexudus.qbo.invoice"].action_import_from_nexudus()
        self.assertEqual(row.transfer_state, "voided")
        self.assertIn("1 updated from Nexudus, 1 voided in QuickBooks", action["params"]["message"])
        document = self._qbo_documents()[row.qbo_id]
        self.assertEqual(money(document["TotalAmt"]), 0)
        self.assertTrue(document["PrivateNote"].startswith("Voided"))

    def test_a_total_changed_in_nexudus_after_the_transfer_is_said_not_resent(self):
        row = self.ready.filtered(lambda r: not r.is_credit_note)[0]
        send(self, row)
        writes = len(self.qbo.writes)
        self.nexudus.data.touch_invoice(row.nexudus_id, TotalAmount=Decimal("1.00"))
        import_invoices(self)
        self.assertEqual(row.transfer_state, "sent")
        self.assertEqual(len(self.qbo.writes), writes)
        self.assertIn("The total changed in Nexudus after the transfer", row.message_ids[0].body)

    def test_lost_response_after_commit_is_recovered_without_duplicate(self):
        row = self.ready.filtered(lambda r: not r.is_credit_note)[0]
        link_customers(self, row)
        self.qbo.drop_response_after_commit()  # QuickBooks commits, the answer is lost...
        self.qbo.fail_next_write(count=2, status=503)  # ... and both retries find it down
        send(self, row)
        self.assertEqual(row.transfer_state, "sending", row.transfer_reason)
        self.assertEqual(len(self._qbo_documents()), 1, "QuickBooks did create it")
        send(self, row)
        self.assertEqual(row.transfer_state, "sent")
        self.assertEqual(len(self._qbo_documents()), 1)
        self.assertEqual(row.qbo_id, next(iter(self._qbo_documents())))

    def test_crash_between_call_and_commit_is_recovered_without_duplicate(self):
        row = self.ready.filtered(lambda r: not r.is_credit_note)[0]
        model = type(self.env["nexudus.qbo.invoice"])
        crashed = False
        # Not assertRaises: Odoo's rolls back the database to before the block.
        with patch.object(model, "_record_sent", side_effect=RuntimeError("worker killed")):
            try:
                send(self, row)
            except RuntimeError:
                crashed = True
        self.assertTrue(crashed)
        row.invalidate_recordset()
        self.assertEqual(row.transfer_state, "sending", "committed before the call")
        self.assertEqual(len(self._qbo_documents()), 1)
        send(self, row)
        self.assertEqual((row.transfer_state, len(self._qbo_documents())), ("sent", 1))

    def test_an_invoice_another_run_holds_is_left_to_it(self):
        held, free = self.ready.filtered(lambda r: not r.is_credit_note)[:2]
        other = db_connect(self.env.cr.dbname).cursor()  # another worker's connection
        try:
            other.execute("SELECT pg_advisory_lock(%s, %s)", (0x4E51, held.id))
            send(self, held | free)
            self.assertEqual((held.transfer_state, free.transfer_state), ("to_send", "sent"))
            other.execute("SELECT pg_advisory_unlock(%s, %s)", (0x4E51, held.id))
        finally:
            other.close()
        send(self, held | free)
        self.assertEqual(held.transfer_state, "sent")
        self.assertEqual(len(self._qbo_documents()), 2)

    def test_a_refusal_fails_that_invoice_only_and_retry_after_the_fix_sends_it(self):
        first, second = self.ready.filtered(lambda r: not r.is_credit_note).sorted(lambda r: (r.issue_date, r.id))[:2]
        link_customers(self, first | second)
        # The batch of both is refused as a whole, then each goes on its own: the first is refused again.
        self.qbo.fail_next_write(count=2, status=400)
        with patch(f"{TRANSFER}._logger"):
            send(self, first | second)
        self.assertEqual(first.transfer_state, "failed")
        self.assertIn(first.number, first.transfer_reason)
        self.assertIn("System Failure Error", first.transfer_reason)
        self.assertEqual(second.transfer_state, "sent", "one bad invoice never stops the others")
        with self.enter_registry_test_mode():
            first.action_retry()
        self.assertEqual(first.transfer_state, "sent")
        self.assertEqual(first.request_revision, 1)

    def _three_way_split(self):
        """An invoice of three 1.67 lines at 20%: Nexudus rounds the tax per line (3 × 0.33 = 0.99),
        QuickBooks over the rate (5.01 × 20% = 1.00)."""
        london = self.env["nexudus.qbo.location"].search([("name", "=", "London Bridge")])
        row = self.ready.filtered(lambda r: not r.is_credit_note and r.location_id == london)[0]
        data = self.nexudus.data
        old = data.lines_of(row.nexudus_id)
        for line in old:
            del data.coworkerinvoicelines[line["Id"]]
        for position in (1, 2, 3):
            line_id = 990000 + row.nexudus_id * 10 + position
            data.coworkerinvoicelines[line_id] = old[0] | {
                "Id": line_id,
                "Position": position,
                "Quantity": 1,
                "UnitPrice": Decimal("1.67"),
                "SubTotal": Decimal("1.67"),
                "TaxAmount": Decimal("0.33"),
                "DiscountAmount": Decimal("0.00"),
                "TaxRate": Decimal("20"),
                "TaxCategoryName": "20.0% S",
                "FinancialAccountCode": "MEM-001",
                "FinancialAccountName": "Membership Revenue",
            }
        data.touch_invoice(row.nexudus_id, TotalAmount=Decimal("6.00"), TaxAmount=Decimal("0.99"))
        with self.enter_registry_test_mode():
            row.action_refresh_from_nexudus()
        return row

    def test_per_line_tax_rounding_reaches_quickbooks_to_the_cent(self):
        row = self._three_way_split()
        send(self, row)
        self.assertEqual(row.transfer_state, "sent", row.transfer_reason)
        self.assertEqual(money(self._qbo_documents()[row.qbo_id]["TotalAmt"]), money("6.00"))

    def _quickbooks_rate_changed(self, value):
        """Someone changed the 20% rate in QuickBooks after it was mapped, and QuickBooks ignores the tax an
        invoice states: its own arithmetic then disagrees with Nexudus's."""
        self.qbo.honour_tax_override = value == Decimal("20")
        for rate in self.qbo.company.table("TaxRate").rows.values():
            if rate.get("RateValue") in (Decimal("20"), Decimal("21")):
                rate["RateValue"] = value

    def test_per_line_tax_rounding_holds_even_when_quickbooks_ignores_the_stated_tax(self):
        row = self._three_way_split()
        self.qbo.honour_tax_override = False
        send(self, row)
        self.assertEqual(row.transfer_state, "sent", row.transfer_reason)
        self.assertEqual(money(self._qbo_documents()[row.qbo_id]["TotalAmt"]), money("6.00"))

    def test_quickbooks_total_that_differs_fails_with_the_figures(self):
        row = self._three_way_split()
        self._quickbooks_rate_changed(Decimal("21"))
        send(self, row)
        self.assertEqual(row.transfer_state, "failed")
        self.assertIn("QuickBooks computed 6.05", row.transfer_reason)
        self.assertIn("Nexudus says 6.00 (difference -0.05)", row.transfer_reason)
        self.assertFalse(self._qbo_documents(), "the wrong document was deleted again")

    def test_a_throttled_delete_stays_delete_pending_until_the_next_run_deletes_it(self):
        row = self._three_way_split()
        link_customers(self, row)
        self._quickbooks_rate_changed(Decimal("21"))
        self.qbo.fail_next_write(count=1, status=429, skip=1)  # the create goes through, its delete is throttled
        send(self, row)
        self.assertEqual(row.transfer_state, "to_delete")
        self.assertTrue(row.qbo_discard_id)
        self.assertIn(row.qbo_discard_id, self._qbo_documents(), "Odoo says what QuickBooks holds")
        chatter = " ".join(row.message_ids.mapped("body"))
        self.assertNotIn("was deleted", chatter)
        self.assertIn("is still in QuickBooks", chatter)

        self.env["nexudus.qbo.rate.budget"].search([]).write({"blocked_until": False})  # the wait is over
        self.qbo.clock_offset += 61
        with self.enter_registry_test_mode():
            self.env.ref("nexudus_qbo_connector.ir_cron_nexudus_qbo_sync").method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(row.transfer_state, "failed", "deleted; waiting for the fix its reason names")
        self.assertFalse(self._qbo_documents())
        self.assertIn("QuickBooks computed 6.05", row.transfer_reason)

        self._quickbooks_rate_changed(Decimal("20"))  # the fix
        send(self, row)
        self.assertEqual(row.transfer_state, "sent", row.transfer_reason)
        self.assertEqual(len(self._qbo_documents()), 1, "sent once, no 6140 on the way")

    def test_invoice_period_as_date(self):
        row = self.ready.filtered(lambda r: not r.is_credit_note and r.period_start)[0]
        self.env.company.nexudus_qbo_use_invoice_period = True
        send(self, row)
        self.assertEqual(self._qbo_documents()[row.qbo_id]["TxnDate"], str(row.period_start))
