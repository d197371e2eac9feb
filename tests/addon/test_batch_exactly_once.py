from collections import Counter
from decimal import Decimal
from unittest.mock import patch

from odoo.sql_db import db_connect
from odoo.tests import tagged

from odoo.addons.nexudus_qbo_connector.models import nexudus_qbo_customer_link as customer_link

from . import test_payments
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


@tagged("standard", "post_install", "-at_install")
class TestBatchExactlyOnce(FreshServicesCase):
    """Invoices go to QuickBooks in batch requests, each invoice exactly once whatever goes wrong."""

    world_sizes = {"seed": 7, "profile": "uk", "locations": 3, "customers": 12, "invoices": 60, "credit_notes": 8}

    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        complete_mappings(self)
        invoices = import_invoices(self)
        ready = invoices.filtered(lambda r: r.transfer_state == "to_send" and not r.is_credit_note)
        self.rows = ready.sorted(lambda r: (r.issue_date, r.id))[:6]
        link_customers(self, self.rows)  # so that only the batch writes

    def _calls(self, kind, about=""):
        """How many requests of ``kind`` ("batch", "query") reached QuickBooks (queries: of the ``about`` entity)."""
        return sum(
            1
            for _method, path, params in self.qbo.request_log
            if path.rstrip("/").endswith(f"/{kind}") and f"FROM {about}" in params.get("query", "FROM ")
        )

    def _single_customer_writes(self):
        return sum(1 for method, path, _p in self.qbo.request_log if method == "POST" and path.endswith("/customer"))

    def _created(self):
        """Each row's number of documents in QuickBooks, by Nexudus id (read from the marker)."""
        documents = qbo_rows(self, "Invoice") + qbo_rows(self, "CreditMemo")
        return Counter(
            row.nexudus_id
            for row in self.rows
            for d in documents
            if f"[nexudus-invoice {row.nexudus_id}]" in (d.get("PrivateNote") or "")
        )

    def assertOnceEach(self, rows=None):
        rows = rows or self.rows
        self.assertEqual(set(rows.mapped("transfer_state")), {"sent"}, rows.mapped("transfer_reason"))
        created = self._created()
        self.assertEqual(
            {row.nexudus_id: created[row.nexudus_id] for row in rows}, dict.fromkeys(rows.mapped("nexudus_id"), 1)
        )
        self.assertEqual(len(set(rows.mapped("qbo_id"))), len(rows))

    def test_one_batch_request_carries_them_with_its_request_id_on_each_row(self):
        send(self, self.rows)
        self.assertOnceEach()
        self.assertEqual(self._calls("batch"), 1)
        batch_ids = set(self.rows.mapped("batch_request_id"))
        self.assertEqual(len(batch_ids), 1)
        self.assertLessEqual(len(batch_ids.pop()), 36)
        self.assertEqual(sorted(self.rows.mapped("batch_item_id")), sorted(str(i) for i in range(1, 7)))
        params = next(p for _m, path, p in self.qbo.request_log if path.endswith("/batch"))
        self.assertEqual(params["requestid"], self.rows[0].batch_request_id)

    def test_more_than_thirty_go_in_batches_of_thirty(self):
        rows = self.env["nexudus.qbo.invoice"].search([("transfer_state", "=", "to_send")])
        self.assertGreater(len(rows), 30)
        link_customers(self, rows)
        send(self, rows)
        self.assertEqual(set(rows.mapped("transfer_state")), {"sent"}, rows.mapped("transfer_reason"))
        batches = Counter(rows.mapped("batch_request_id"))
        self.assertEqual(self._calls("batch"), len(batches))
        self.assertEqual(max(batches.values()), 30)

    def _new_customers(self):
        links = self.env["nexudus.qbo.customer.link"]
        linked = set(links.search([]).mapped("nexudus_coworker_id"))
        rows = self.env["nexudus.qbo.invoice"].search([("transfer_state", "=", "to_send")])
        new = set(rows.mapped("nexudus_coworker_id")) - linked
        self.assertGreaterEqual(len(new), 6)
        return rows, new

    def _assert_linked_once(self, rows, new):
        self.assertEqual(set(rows.mapped("transfer_state")), {"sent"}, rows.mapped("transfer_reason"))
        self.assertLessEqual(new, set(self.env["nexudus.qbo.customer.link"].search([]).mapped("nexudus_coworker_id")))
        names = Counter(row["DisplayName"] for row in qbo_rows(self, "Customer"))
        self.assertEqual(max(names.values()), 1, "no customer twice in QuickBooks")

    def test_new_customers_are_made_with_one_query_for_their_names(self):
        rows, new = self._new_customers()
        queries = self._calls("query", "Customer")
        send(self, rows)
        self._assert_linked_once(rows, new)
        self.assertLess(self._calls("query", "Customer") - queries, len(new), "not one lookup per customer")

    def test_many_new_customers_are_made_in_a_batch_before_their_invoices(self):
        rows, new = self._new_customers()
        before = self._single_customer_writes()
        with patch.object(customer_link, "BATCH_THRESHOLD", 3):
            send(self, rows)
        self._assert_linked_once(rows, new)
        self.assertLess(self._single_customer_writes() - before, len(new) // 2, "most were made in the batch")
        self.assertEqual(self._calls("batch"), len(set(rows.mapped("batch_request_id"))) + 1)

    def test_a_lost_answer_is_looked_up_with_one_query_and_nothing_is_sent_twice(self):
        self.qbo.drop_response_after_commit()  # QuickBooks commits the batch, the answer is lost...
        self.qbo.fail_next_write(count=2, status=503)  # ... and both retries find it down
        send(self, self.rows)
        self.assertEqual(set(self.rows.mapped("transfer_state")), {"sending"})
        self.assertEqual(len(set(self.rows.mapped("batch_request_id"))), 1)
        self.assertEqual(sum(self._created().values()), 6, "QuickBooks did create them")
        queries, batches = self._calls("query", "Invoice"), self._calls("batch")
        send(self, self.rows)
        self.assertOnceEach()
        self.assertEqual(
            self._calls("query", "Invoice") - queries, 1, "one query for the whole batch, not one per invoice"
        )
        self.assertEqual(self._calls("batch"), batches, "nothing sent again")
        self.assertIn(
            "Found in QuickBooks after an interrupted transfer", self.rows[0].message_ids[:3].mapped("body")[-1]
        )

    def test_a_batch_that_never_arrived_is_sent_again_under_its_request_id(self):
        self.qbo.fail_next_write(count=3, status=503)  # the call and both retries: nothing reached QuickBooks
        send(self, self.rows)
        self.assertEqual(set(self.rows.mapped("transfer_state")), {"sending"})
        batch_id = self.rows[0].batch_request_id
        self.assertFalse(self._created())
        send(self, self.rows)
        self.assertOnceEach()
        self.assertEqual(set(self.rows.mapped("batch_request_id")), {batch_id}, "the same batch, sent again")

    def test_a_forgotten_request_id_sends_only_what_is_missing(self):
        """QuickBooks' retention of request ids is not documented (research §3.6, §6): when it no longer
        knows the batch, only what the lookup did not find is created."""
        self.qbo.drop_response_after_commit()
        self.qbo.fail_next_write(count=2, status=503)
        send(self, self.rows)
        lost = self.rows[0]
        document = next(
            d for d in qbo_rows(self, "Invoice") if f"[nexudus-invoice {lost.nexudus_id}]" in d["PrivateNote"]
        )
        del self.qbo.company.table("Invoice").rows[document["Id"]]  # as if that item had not gone through
        self.qbo.request_ids.clear()  # and QuickBooks forgot the batch's request id
        send(self, self.rows)
        self.assertOnceEach()

    def test_a_crash_between_the_call_and_the_commit_is_recovered_without_duplicate(self):
        model = type(self.env["nexudus.qbo.invoice"])
        crashed = False
        # Not assertRaises: Odoo's rolls back the database to before the block.
        with patch.object(model, "_record_created", side_effect=RuntimeError("worker killed")):
            try:
                send(self, self.rows)
            except RuntimeError:
                crashed = True
        self.assertTrue(crashed)
        self.rows.invalidate_recordset()
        self.assertEqual(set(self.rows.mapped("transfer_state")), {"sending"}, "committed before the call")
        self.assertEqual(sum(self._created().values()), 6)
        batches = self._calls("batch")
        send(self, self.rows)
        self.assertOnceEach()
        self.assertEqual(self._calls("batch"), batches, "adopted, not sent again")

    def test_items_refused_fail_their_invoice_only_with_the_fix(self):
        refused = self.rows[2]
        number = refused.qbo_doc_number or refused.number
        self.assertLessEqual(len(number), 21)
        taken = dict(next(iter(self.qbo.company.table("Customer").rows.values())))
        self.qbo.company.table("Invoice").rows["9999"] = {  # entered in QuickBooks by hand with its number
            "Id": "9999",
            "DocNumber": number,
            "CustomerRef": {"value": taken["Id"]},
            "PrivateNote": "",
            "SyncToken": "0",
            "TotalAmt": 0,
        }
        send(self, self.rows)
        self.assertEqual(self._calls("batch"), 1)
        self.assertEqual(refused.transfer_state, "failed")
        self.assertIn(refused.number, refused.transfer_reason)
        self.assertIn("code 6140", refused.transfer_reason)
        self.assertIn("another QuickBooks document already has this number", refused.transfer_reason)
        self.assertEqual(refused.request_revision, 1, "the next attempt is a new request")
        self.assertOnceEach(self.rows - refused)

        del self.qbo.company.table("Invoice").rows["9999"]  # the fix
        with self.enter_registry_test_mode():
            refused.action_retry()
        self.assertOnceEach()

    def test_rows_another_worker_holds_are_left_to_it(self):
        held = self.rows[:2]
        other = db_connect(self.env.cr.dbname).cursor()  # another worker's connection
        try:
            for row in held:
                other.execute("SELECT pg_advisory_lock(%s, %s)", (0x4E51, row.id))
            send(self, self.rows)
            self.assertEqual(set(held.mapped("transfer_state")), {"to_send"})
            self.assertOnceEach(self.rows - held)
            for row in held:
                other.execute("SELECT pg_advisory_unlock(%s, %s)", (0x4E51, row.id))
        finally:
            other.close()
        send(self, self.rows)
        self.assertOnceEach()

    def test_a_throttled_batch_is_back_to_send_and_goes_once_later(self):
        self.qbo.fail_next_write(count=1, status=429)
        send(self, self.rows)
        self.assertEqual(set(self.rows.mapped("transfer_state")), {"to_send"})
        self.assertFalse(any(self.rows.mapped("batch_request_id")))
        self.assertFalse(self._created())
        self.env["nexudus.qbo.rate.budget"].search([]).write({"blocked_until": False})  # the wait is over
        self.qbo.clock_offset += 61
        send(self, self.rows)
        self.assertOnceEach()


@tagged("standard", "post_install", "-at_install")
class TestPaymentBatchExactlyOnce(FreshServicesCase):
    """Payments from Nexudus go to QuickBooks in batch requests, each once."""

    world_sizes = test_payments.TestPayments.world_sizes

    def setUp(self):
        super().setUp()
        prepare_transfers(self).write({"nexudus_qbo_send_payments": True})
        complete_mappings(self)
        london = self.env["nexudus.qbo.location"].search([("name", "=", "London Bridge")])
        ready = import_invoices(self).filtered(lambda r: r.transfer_state == "to_send" and not r.is_credit_note)
        self.first, self.second = ready.filtered(lambda r: r.location_id == london)[:2]
        send(self, self.first | self.second)
        self.payments = self.env["nexudus.qbo.payment"]

    nexudus_ledger = test_payments.TestPayments.nexudus_ledger

    def run_payments(self):
        with self.enter_registry_test_mode():
            self.payments.action_import_from_nexudus()
        self.env.invalidate_all()
        return self.mine()

    mine = test_payments.TestPayments.mine
    total = test_payments.TestPayments.total
    nexudus_invoice = test_payments.TestPayments.nexudus_invoice

    def _paid_both(self):
        for invoice in (self.first, self.second):
            self.nexudus_ledger(invoice, self.total(invoice))

    def _batches(self):
        return [p for _m, path, p in self.qbo.request_log if path.endswith("/batch")]

    def _payment_queries(self):
        return [p for _m, path, p in self.qbo.request_log if "FROM Payment WHERE PaymentRefNum" in p.get("query", "")]

    def test_two_payments_go_in_one_batch(self):
        self._paid_both()
        before = len(self._batches())
        rows = self.run_payments()
        self.assertEqual(rows.mapped("state"), ["sent", "sent"], rows.mapped("reason"))
        self.assertEqual(len(self._batches()) - before, 1)
        self.assertEqual(len(set(rows.mapped("batch_request_id"))), 1)
        self.assertEqual(len(qbo_rows(self, "Payment")), 2)
        for invoice in (self.first, self.second):
            self.assertEqual(money(self.qbo.company.table("Invoice").get(invoice.qbo_id)["Balance"]), 0)

    def test_a_lost_batch_answer_is_looked_up_with_one_query(self):
        self._paid_both()
        self.qbo.drop_response_after_commit()
        self.qbo.fail_next_write(count=2, status=503)
        rows = self.run_payments()
        self.assertEqual(rows.mapped("state"), ["sending", "sending"])
        self.assertEqual(len(qbo_rows(self, "Payment")), 2, "QuickBooks did record them")
        queries, batches = len(self._payment_queries()), len(self._batches())
        with self.enter_registry_test_mode():
            rows.action_send()
        self.assertEqual(rows.mapped("state"), ["sent", "sent"], rows.mapped("reason"))
        self.assertEqual(len(qbo_rows(self, "Payment")), 2, "nothing doubled")
        self.assertEqual(len(self._payment_queries()) - queries, 1)
        self.assertEqual(len(self._batches()), batches)

    def test_a_crash_between_the_call_and_the_commit_is_recovered_without_duplicate(self):
        self._paid_both()
        model = type(self.env["nexudus.qbo.payment"])
        crashed = False
        with patch.object(model, "_recorded", side_effect=RuntimeError("worker killed")):
            try:
                self.run_payments()
            except RuntimeError:
                crashed = True
        self.assertTrue(crashed)
        rows = self.mine()
        self.assertEqual(rows.mapped("state"), ["sending", "sending"], "committed before the call")
        with self.enter_registry_test_mode():
            rows.action_send()
        self.assertEqual(rows.mapped("state"), ["sent", "sent"])
        self.assertEqual(len(qbo_rows(self, "Payment")), 2)

    def test_a_payment_refused_in_the_batch_fails_alone(self):
        self._paid_both()
        self.qbo.company.table("Invoice").get(self.second.qbo_id)["Balance"] = Decimal("0.01")  # paid in QuickBooks
        rows = self.run_payments()
        first, second = (rows.filtered(lambda r, i=i: r.invoice_id == i) for i in (self.first, self.second))
        self.assertEqual((first.state, second.state), ("sent", "failed"))
        self.assertIn("more than the 0.01 still open", second.reason)
        self.assertEqual(len(qbo_rows(self, "Payment")), 1)
