from datetime import datetime, timedelta
from decimal import Decimal

import requests

from odoo.tests import tagged

from .common import FreshServicesCase
from .transfer_common import complete_mappings, import_invoices, money, prepare_transfers, qbo_rows, send

D = Decimal


@tagged("standard", "post_install", "-at_install")
class TestPayments(FreshServicesCase):
    """Payments both ways end with both sides agreeing, nothing doubled after reruns and faults."""

    world_sizes = {"seed": 7, "profile": "uk", "locations": 3, "customers": 12, "invoices": 40, "payments": 0}

    def setUp(self):
        super().setUp()
        company = prepare_transfers(self)
        complete_mappings(self)
        company.write(
            {
                "nexudus_qbo_send_payments": True,
                "nexudus_qbo_reconcile_payments": True,
                "nexudus_qbo_auto_pull_payments": True,
            }
        )
        invoices = import_invoices(self)
        london = self.env["nexudus.qbo.location"].search([("name", "=", "London Bridge")])
        ready = invoices.filtered(lambda r: r.transfer_state == "to_send" and not r.is_credit_note)
        self.first, self.second = ready.filtered(lambda r: r.location_id == london)[:2]
        send(self, self.first | self.second)
        self.assertEqual((self.first.transfer_state, self.second.transfer_state), ("sent", "sent"))
        self.payments = self.env["nexudus.qbo.payment"]

    # -- helpers ---------------------------------------------------------------------------------------
    def nexudus_ledger(self, invoice, credit, debit="0.00", gateway=997):
        """What Nexudus records when a member pays (or is refunded) at the desk."""
        record = self.nexudus.data.coworkerinvoices[invoice.nexudus_id]
        body = {
            "BusinessId": record["BusinessId"],
            "CoworkerId": record["CoworkerId"],
            "CoworkerInvoiceId": record["Id"],
            "Description": "Payment received",
            "Code": "PAYM",
            "Debit": float(D(debit)),
            "Credit": float(D(credit)),
            "PaymentGatewayName": gateway,
        }
        for _attempt in range(3):  # a person in Nexudus meets the same limits: wait as it says
            answer = requests.post(
                f"{self.nexudus.url}/api/billing/coworkerledgerentries",
                json=body,
                auth=("admin@example.com", "secret"),
                timeout=10,
            )
            if answer.status_code != 409:
                break
            self.nexudus.clock_offset += int(answer.headers["Retry-After"])
        self.assertTrue(answer.json()["WasSuccessful"], answer.text)

    def run_payments(self):
        with self.enter_registry_test_mode():
            self.payments.action_import_from_nexudus()
            self.payments.action_pull_from_qbo()
        self.env.invalidate_all()
        return self.mine()

    def mine(self):
        """The payment rows of the two invoices the tests pay (the seeded ledger has credit applied to others)."""
        return self.payments.search([("invoice_id", "in", (self.first | self.second).ids)])

    def qbo_invoice(self, invoice):
        return self.qbo.company.table("Invoice").get(invoice.qbo_id)

    def nexudus_invoice(self, invoice):
        return self.nexudus.data.coworkerinvoices[invoice.nexudus_id]

    def total(self, invoice):
        return money(self.nexudus_invoice(invoice)["TotalAmount"])

    # -- Nexudus → QuickBooks --------------------------------------------------------------------------
    def test_nexudus_payment_in_full(self):
        self.nexudus_ledger(self.first, self.total(self.first))
        rows = self.run_payments()
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows.direction, rows.state), ("nexudus_to_qbo", "sent"), rows.reason)
        self.assertEqual(money(self.qbo_invoice(self.first)["Balance"]), 0)
        payment = self.qbo.company.table("Payment").get(rows.qbo_payment_id)
        self.assertEqual(money(payment["TotalAmt"]), self.total(self.first))
        self.assertEqual(payment["DepositToAccountRef"]["value"], self._payments_account().qbo_id)
        self.assertEqual(payment["PaymentMethodRef"]["name"], "Cash")
        writes = (len(self.qbo.writes), len(self.nexudus.writes))
        self.assertEqual(len(self.run_payments()), 1, "not echoed back from QuickBooks")
        self.assertEqual((len(self.qbo.writes), len(self.nexudus.writes)), writes, "nothing doubled")

    def test_nexudus_payment_in_two_parts(self):
        total = self.total(self.first)
        part = (total / 3).quantize(D("0.01"))
        self.nexudus_ledger(self.first, part)
        self.run_payments()
        self.nexudus_ledger(self.first, total - part)
        rows = self.run_payments()
        self.assertEqual(rows.mapped("state"), ["sent", "sent"])
        self.assertEqual(sorted(money(r.amount) for r in rows), sorted([part, total - part]))
        self.assertEqual(money(self.qbo_invoice(self.first)["Balance"]), 0)
        self.assertEqual(len(qbo_rows(self, "Payment")), 2)

    def test_nexudus_payment_refunded(self):
        total = self.total(self.first)
        self.nexudus_ledger(self.first, total)
        self.run_payments()
        self.nexudus_ledger(self.first, "0.00", debit=total)
        rows = self.run_payments()
        refund = rows.filtered(lambda r: r.amount < 0)
        self.assertEqual(refund.state, "sent", refund.reason)
        self.assertEqual(money(self.qbo_invoice(self.first)["Balance"]), total, "the invoice is open again")
        self.assertEqual(money(self.nexudus_invoice(self.first)["PaidAmount"]), 0)

    def test_a_refund_nexudus_only_flags_on_the_invoice_voids_the_matching_payment(self):
        total = self.total(self.first)
        self.nexudus_ledger(self.first, total)
        self.run_payments()
        paid = self.mine()
        latest = max(e["TransactionDate"] for e in self.nexudus.data.coworkerledgerentries.values())
        refunded_on = (datetime.fromisoformat(latest.replace("Z", "+00:00")) + timedelta(days=1)).isoformat()
        # The refund command's reading: the invoice says Refunded and how much, its ledger shows no row.
        self.nexudus.data.touch_invoice(
            self.first.nexudus_id, Refunded=True, RefundedAmount=total, RefundedOn=refunded_on.replace("+00:00", "Z")
        )
        rows = self.run_payments()
        refund = rows - paid
        self.assertEqual((refund.kind, refund.state), ("refund", "sent"), refund.reason)
        self.assertEqual(money(self.qbo.company.table("Payment").get(paid.qbo_payment_id)["TotalAmt"]), 0)
        self.assertIn("voided", " ".join(self.first.message_ids.mapped("body")))
        self.assertEqual(len(self.run_payments()), 2, "once")

    def test_a_charge_read_after_its_payment_changes_nothing_in_quickbooks(self):
        total = self.total(self.first)
        self.nexudus_ledger(self.first, total)
        self.run_payments()
        payment = qbo_rows(self, "Payment")[0]
        writes = len(self.qbo.writes)
        # The invoice's own charge (its debit row) read again after the payment, as a ledger page may bring it.
        charge = next(
            e
            for e in self.nexudus.data.coworkerledgerentries.values()
            if e["CoworkerInvoiceId"] == self.first.nexudus_id and e["Debit"] and not e["PaymentGatewayName"]
        )
        charge["CreatedOn"] = charge["UpdatedOn"] = max(
            e["CreatedOn"] for e in self.nexudus.data.coworkerledgerentries.values()
        )
        rows = self.run_payments()
        self.assertEqual(len(rows), 1, "a charge is not a payment row")
        self.assertEqual(len(self.qbo.writes), writes)
        self.assertEqual(money(self.qbo.company.table("Payment").get(payment["Id"])["TotalAmt"]), total)

    def test_an_entry_that_reads_as_nothing_known_is_held_for_review(self):
        self.nexudus_ledger(self.first, "10.00", gateway=990)  # bad debt: no money moved
        row = self.run_payments()
        self.assertEqual(row.state, "review")
        for shown in ("credit 10.00", "Bad debt", "Nothing was changed in QuickBooks"):
            self.assertIn(shown, row.reason)
        self.assertFalse(qbo_rows(self, "Payment"))

    def test_a_payment_whose_method_quickbooks_lacks_goes_without_one_and_says_so(self):
        self.env["nexudus.qbo.payment.method.map"].create(
            {"provider": 997, "provider_name": "Cash", "qbo_method_name": "Petty cash tin"}
        )
        self.nexudus_ledger(self.first, self.total(self.first))
        row = self.run_payments()
        self.assertEqual(row.state, "sent", row.reason)
        self.assertNotIn("PaymentMethodRef", self.qbo.company.table("Payment").get(row.qbo_payment_id))
        self.assertIn("Sent without a payment method", " ".join(row.message_ids.mapped("body")))

    def test_a_missing_method_is_created_when_settings_say_so(self):
        self.env.company.nexudus_qbo_create_payment_methods = True
        self.env["nexudus.qbo.payment.method.map"].create(
            {"provider": 997, "provider_name": "Cash", "qbo_method_name": "Petty cash tin"}
        )
        self.nexudus_ledger(self.first, self.total(self.first))
        row = self.run_payments()
        method = self.qbo.company.table("PaymentMethod").find(Name="Petty cash tin")
        self.assertTrue(method)
        self.assertEqual(self.qbo.company.table("Payment").get(row.qbo_payment_id)["PaymentMethodRef"]["value"],
                         method["Id"])  # fmt: skip

    def test_payment_waits_for_its_invoice_and_holds_with_automatic_application_on(self):
        self.qbo.company.preferences["SalesFormsPrefs"]["AutoApplyPayments"] = True
        self.nexudus_ledger(self.first, self.total(self.first))
        row = self.run_payments()
        self.assertEqual(row.state, "held")
        self.assertIn("Automatically apply payments", row.reason)
        self.assertFalse(qbo_rows(self, "Payment"))
        self.qbo.company.preferences["SalesFormsPrefs"]["AutoApplyPayments"] = False
        with self.enter_registry_test_mode():
            row.action_retry()
        self.assertEqual(row.state, "sent")

    def test_the_notification_counts_what_this_action_did(self):
        self.nexudus_ledger(self.first, self.total(self.first))
        with self.enter_registry_test_mode():
            params = self.payments.action_import_from_nexudus()["params"]
        self.assertTrue(params["message"].startswith("1 created in QuickBooks"), params["message"])
        self.assertEqual(params["type"], "success")
        with self.enter_registry_test_mode():
            params = self.mine().action_send()["params"]
        self.assertIn("Nothing done: 1 already there.", params["message"])
        self.assertEqual(params["type"], "warning")
        self.assertEqual(len(qbo_rows(self, "Payment")), 1)

    def test_lost_quickbooks_answer_is_recovered_without_a_second_payment(self):
        self.nexudus_ledger(self.first, self.total(self.first))
        self.qbo.drop_response_after_commit()
        self.qbo.fail_next_write(count=2, status=503)
        row = self.run_payments()
        self.assertEqual(row.state, "sending")
        self.run_payments()
        with self.enter_registry_test_mode():
            row.action_send()
        self.assertEqual(row.state, "sent")
        self.assertEqual(len(qbo_rows(self, "Payment")), 1)

    # -- QuickBooks → Nexudus --------------------------------------------------------------------------
    def test_quickbooks_payment_in_full(self):
        total = self.total(self.second)
        payment = self.qbo.record_payment(self.second.qbo_id, str(total), payment_method_name="Check")
        rows = self.run_payments()
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows.direction, rows.state, rows.qbo_payment_id), ("qbo_to_nexudus", "sent", payment["Id"]))
        record = self.nexudus_invoice(self.second)
        self.assertEqual(money(record["PaidAmount"]), total)
        self.assertTrue(record["Paid"])
        entry = self.nexudus.data.coworkerledgerentries[rows.nexudus_ledger_id]
        self.assertEqual(entry["PaymentGatewayName"], 998, "Check")
        self.assertIn(f"[qbo-payment {payment['Id']}]", entry["Description"])
        writes = (len(self.qbo.writes), len(self.nexudus.writes))
        self.assertEqual(len(self.run_payments()), 1, "not echoed back to QuickBooks")
        self.assertEqual((len(self.qbo.writes), len(self.nexudus.writes)), writes, "nothing doubled")

    def test_quickbooks_payment_partial_then_deleted_is_reported(self):
        part = (self.total(self.second) / 2).quantize(D("0.01"))
        payment = self.qbo.record_payment(self.second.qbo_id, str(part))
        row = self.run_payments()
        self.assertEqual(row.state, "sent")
        self.assertEqual(money(self.nexudus_invoice(self.second)["PaidAmount"]), part)
        self.qbo.delete_payment(payment["Id"])
        row = self.run_payments()
        self.assertEqual(row.state, "attention")
        self.assertIn("was deleted in QuickBooks after it was recorded in Nexudus", row.reason)
        self.assertIn(str(row.nexudus_ledger_id), row.reason)
        self.assertTrue(row.activity_ids)
        wizard = (
            self.env["nexudus.qbo.mark.dealt.with"]
            .with_context(active_model=row._name, active_ids=row.ids)
            .create({"reason": "Reversed the payment on the invoice in Nexudus."})
        )
        wizard.action_confirm()
        self.assertEqual(row.state, "done_by_hand")
        self.assertFalse(row.activity_ids, "the Manager's to-do is done")
        self.run_payments()  # the deleted payment read again does not reopen what a person dealt with
        self.assertEqual(row.state, "done_by_hand")

    def test_quickbooks_payment_voided_after_it_was_recorded_is_reported(self):
        payment = self.qbo.record_payment(self.second.qbo_id, str(self.total(self.second)))
        row = self.run_payments()
        self.assertEqual(row.state, "sent")
        self.assertEqual(self.second.payment_ids, row)
        self.qbo.void_payment(payment["Id"])
        self.run_payments()
        self.assertEqual(row.state, "attention")
        self.assertIn("was voided in QuickBooks after it was recorded in Nexudus", row.reason)

    def test_nexudus_refusing_or_throttling_leaves_nothing_doubled(self):
        self.qbo.record_payment(self.second.qbo_id, str(self.total(self.second)))
        self.nexudus.fail_next(count=3, status=409, retry_after=1)
        with self.enter_registry_test_mode():
            self.payments.action_pull_from_qbo()
        row = self.mine()
        self.assertIn(row.state, ("to_send", "sending", "failed"))
        self.env["nexudus.qbo.rate.budget"].search([]).write({"blocked_until": False})  # the second has passed
        with self.enter_registry_test_mode():
            row.action_send()
        self.assertEqual(row.state, "sent", row.reason)
        payments = [
            e
            for e in self.nexudus.data.coworkerledgerentries.values()
            if e["CoworkerInvoiceId"] == self.second.nexudus_id and e["Credit"]
        ]
        self.assertEqual(len(payments), 1, "besides the invoice's own debit, one payment")

    def test_one_change_data_capture_request_per_run_and_the_odoo_invoice_shows_paid(self):
        self.qbo.record_payment(self.first.qbo_id, str(self.total(self.first)))
        self.qbo.record_payment(self.second.qbo_id, str(self.total(self.second)))
        calls = len(self.qbo.cdc_calls)
        rows = self.run_payments()
        self.assertEqual(len(self.qbo.cdc_calls) - calls, 1, "one request for all the invoices")
        self.assertEqual(rows.mapped("state"), ["sent", "sent"])
        self.assertEqual((self.first | self.second).mapped("nexudus_status"), ["paid", "paid"])

    def test_a_cursor_older_than_change_data_capture_reaches_falls_back_to_a_query(self):
        self.qbo.record_payment(self.second.qbo_id, str(self.total(self.second)))
        self.env.company.qbo_payment_cursor = "2026-01-01 00:00:00"
        calls = len(self.qbo.cdc_calls)
        rows = self.run_payments()
        self.assertEqual(len(self.qbo.cdc_calls), calls, "CDC reaches 30 days back only")
        self.assertEqual((rows.direction, rows.state), ("qbo_to_nexudus", "sent"))

    def test_the_scheduled_action_moves_payments_both_ways(self):
        self.nexudus_ledger(self.first, self.total(self.first))
        self.qbo.record_payment(self.second.qbo_id, str(self.total(self.second)))
        with self.enter_registry_test_mode():
            self.env.ref("nexudus_qbo_connector.ir_cron_nexudus_qbo_sync").method_direct_trigger()
        self.env.invalidate_all()
        rows = self.mine()
        self.assertEqual(sorted(rows.mapped("direction")), ["nexudus_to_qbo", "qbo_to_nexudus"])
        self.assertEqual(rows.mapped("state"), ["sent", "sent"])
        self.assertEqual(money(self.qbo_invoice(self.first)["Balance"]), 0)
        self.assertTrue(self.nexudus_invoice(self.second)["Paid"])

    def test_a_payment_held_for_its_invoice_follows_it_on_the_next_run(self):
        waiting = self.env["nexudus.qbo.invoice"].search(
            [
                ("transfer_state", "=", "to_send"),
                ("is_credit_note", "=", False),
                ("location_id", "=", self.first.location_id.id),
            ],
            limit=1,
        )
        self.nexudus_ledger(waiting, self.total(waiting))
        cron = self.env.ref("nexudus_qbo_connector.ir_cron_nexudus_qbo_sync")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        row = self.payments.search([("invoice_id", "=", waiting.id)])
        self.assertEqual(row.state, "held")
        self.assertIn(f"Waiting for {waiting.display_name} to be in QuickBooks", row.reason)
        send(self, waiting)
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertEqual(row.state, "sent", row.reason)

    def test_a_payment_held_for_its_invoice_follows_a_persons_send_of_it(self):
        waiting = self.env["nexudus.qbo.invoice"].search(
            [("transfer_state", "=", "to_send"), ("is_credit_note", "=", False)], limit=1
        )
        self.nexudus_ledger(waiting, self.total(waiting))
        self.run_payments()
        row = self.payments.search([("invoice_id", "=", waiting.id)])
        self.assertEqual((row.state, row.waiting_for), ("held", "invoice"))
        send(self, waiting)  # the click that ends the cause releases the payment at once
        self.assertEqual(row.state, "sent", row.reason)
        self.assertEqual(money(self.qbo_invoice(waiting)["Balance"]), 0)

    def test_options_off_move_nothing_automatically(self):
        self.env.company.write({"nexudus_qbo_send_payments": False, "nexudus_qbo_auto_pull_payments": False})
        self.nexudus_ledger(self.first, self.total(self.first))
        self.qbo.record_payment(self.second.qbo_id, str(self.total(self.second)))
        with self.enter_registry_test_mode():
            self.env.ref("nexudus_qbo_connector.ir_cron_nexudus_qbo_sync").method_direct_trigger()
        self.assertFalse(self.mine())

    def _payments_account(self):
        return (
            self.env["nexudus.qbo.account.map"]
            .search([("location_id", "=", self.first.location_id.id), ("nexudus_type", "=", "payments")])
            .qbo_account_id
        )
