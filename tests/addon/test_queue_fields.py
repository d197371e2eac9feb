"""The queue's fields are the connector's: no person writes them, over the ORM or RPC, sudo or not; a Manager
closes what was settled outside the connector with Mark as dealt with, which says who and why."""

import json
from datetime import datetime, timedelta
from decimal import Decimal

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.sql_db import db_connect
from odoo.tests import HttpCase, TransactionCase, mute_logger, new_test_user, tagged

from .common import ADDON, FreshServicesCase
from .transfer_common import complete_mappings, prepare_transfers, qbo_rows

USER = f"{ADDON}.group_nexudus_qbo_user"
MANAGER = f"{ADDON}.group_nexudus_qbo_manager"
INVOICE_LOCK = 0x4E51  # the advisory lock class of a worker sending an invoice


class QueueRowsMixin:
    """A User, a Manager, and queue rows set up as the connector writes them (``_as_connector``)."""

    test_module = ADDON

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.user = new_test_user(env, "queue_user", groups=f"base.group_user,{USER}")
        cls.manager = new_test_user(env, "queue_manager", groups=f"base.group_user,{MANAGER}")
        company = env.company
        location = env["nexudus.qbo.location"].create(
            {"company_id": company.id, "nexudus_id": 990001, "name": "Queue test location"}
        )
        # Set up as the connector writes them; the tests then hold them in the test's plain environment.
        invoices = env["nexudus.qbo.invoice"]._as_connector()
        common = {"company_id": company.id, "location_id": location.id}
        waiting = invoices.create({**common, "nexudus_id": 990001, "number": "QT-1"})
        failed = invoices.create({**common, "nexudus_id": 990002, "number": "QT-2"})
        failed.write({"transfer_state": "failed", "transfer_reason": "QuickBooks refused it.", "attempts": 1})
        sent = invoices.create({**common, "nexudus_id": 990003, "number": "QT-3"})
        sent.write({"transfer_state": "sent", "qbo_id": "9003", "qbo_doc_number": "QT-3", "qbo_total": 100})
        payment = (
            env["nexudus.qbo.payment"]
            ._as_connector()
            .create(
                {
                    "company_id": company.id,
                    "direction": "nexudus_to_qbo",
                    "invoice_id": waiting.id,
                    "amount": 25,
                    "nexudus_ledger_id": 990001,
                }
            )
        )
        payment.write({"state": "held", "waiting_for": "invoice", "reason": "Waiting for QT-1."})
        cls.waiting, cls.failed, cls.sent = (env["nexudus.qbo.invoice"].browse(r.id) for r in (waiting, failed, sent))
        cls.payment = env["nexudus.qbo.payment"].browse(payment.id)

    def snapshot(self):
        self.env.invalidate_all()
        return [
            (self.waiting.transfer_state, self.waiting.qbo_id),
            (self.failed.transfer_state, self.failed.attempts),
            (self.sent.transfer_state, self.sent.qbo_id),
            (self.payment.state, self.payment.qbo_payment_id),
        ]

    def forbidden_writes(self):
        """(record, values): a person moving the queue by hand, as found under test."""
        return [
            (self.waiting, {"transfer_state": "sent"}),
            (self.sent, {"transfer_state": "to_send"}),
            (self.sent, {"qbo_id": "4242"}),
            (self.payment, {"state": "sent"}),
        ]


@tagged("post_install", "-at_install")
class TestQueueFields(QueueRowsMixin, TransactionCase):
    def assertRefused(self, record, values):
        with self.assertRaises(AccessError) as caught:
            record.write(values)
        message = str(caught.exception)
        for name in values:
            self.assertIn(f"({name})", message, "the error names the field")
        self.assertIn("Send to QuickBooks", message, "and says what to do instead")
        self.assertIn("Mark as dealt with", message)

    def test_every_declared_queue_field_exists(self):
        for model in ("nexudus.qbo.invoice", "nexudus.qbo.payment"):
            Model = self.env[model]
            self.assertEqual(set(Model._queue_fields) - set(Model._fields), set(), model)
            self.assertIn(Model._state_field, Model._queue_fields)
            self.assertIn("tried_run_id", Model._queue_fields)
            self.assertIn(("done_by_hand", "Dealt with by hand"), Model._fields[Model._state_field].selection)

    def test_user_and_manager_cannot_write_the_queue(self):
        before = self.snapshot()
        for person in (self.user, self.manager):
            for record, values in self.forbidden_writes():
                with self.subTest(person=person.login, record=record.display_name, values=values):
                    self.assertRefused(record.with_user(person), values)
        self.assertEqual(self.snapshot(), before)

    def test_sudo_and_superuser_writes_are_refused_too(self):
        before = self.snapshot()
        for record, values in self.forbidden_writes():
            self.assertRefused(record.with_user(self.user).sudo(), values)
            self.assertRefused(record.sudo(), values)  # e.g. another module's code, or a server action
        self.assertEqual(self.snapshot(), before)

    def test_a_forged_context_key_does_not_open_the_queue(self):
        """What a client can put in a call's context: strings, numbers, booleans, lists, dicts."""
        from odoo.addons.nexudus_qbo_connector.models.nexudus_qbo_transfer_mixin import CONNECTOR, QUEUE_WRITE

        before = self.snapshot()
        for forged in (True, 1, "1", repr(CONNECTOR), {"connector": True}, ["connector"]):
            for record, values in self.forbidden_writes():
                self.assertRefused(record.with_user(self.manager).with_context({QUEUE_WRITE: forged}), values)
                self.assertRefused(record.sudo().with_context({QUEUE_WRITE: forged}), values)
        # The mark itself is not enough without the connector's superuser environment.
        self.assertRefused(self.sent.with_user(self.manager).with_context({QUEUE_WRITE: CONNECTOR}), {"qbo_id": "1"})
        self.assertEqual(self.snapshot(), before)

    def test_other_ways_of_writing_are_refused(self):
        before = self.snapshot()
        manager_sent = self.sent.with_user(self.manager)
        with self.assertRaises(AccessError):
            manager_sent.qbo_id = "4242"  # a field assignment is a write
        with self.assertRaises(AccessError):  # through the invoice's payments
            manager_sent.write({"payment_ids": [Command.update(self.payment.id, {"state": "sent"})]})
        with self.assertRaises(AccessError):  # web_save, what the form view calls
            manager_sent.web_save({"transfer_state": "to_send"}, {})
        self.assertEqual(self.snapshot(), before)

    def test_a_manager_cannot_create_rows_with_queue_values(self):
        invoices = self.env["nexudus.qbo.invoice"].with_user(self.manager)
        values = {"company_id": self.env.company.id, "location_id": self.waiting.location_id.id, "nexudus_id": 990009}
        with self.assertRaises(AccessError):
            invoices.create({**values, "transfer_state": "sent", "qbo_id": "777"})
        with self.assertRaises(AccessError):
            invoices.with_context(default_transfer_state="sent").create(values)
        with self.assertRaises(AccessError):
            self.env["nexudus.qbo.payment"].with_user(self.manager).create(
                {
                    "company_id": self.env.company.id,
                    "direction": "qbo_to_nexudus",
                    "invoice_id": self.sent.id,
                    "qbo_payment_id": "55",
                    "state": "sent",
                }  # fmt: skip
            )
        self.assertFalse(self.env["nexudus.qbo.invoice"].search([("nexudus_id", "=", 990009)]))

    def test_the_connectors_click_drops_a_default_a_client_put_in_its_context(self):
        """A click's context comes from the client: its defaults never reach the rows the connector creates."""
        connector = self.env["nexudus.qbo.invoice"].with_context(default_transfer_state="sent")._as_connector()
        row = connector.create(
            {"company_id": self.env.company.id, "location_id": self.waiting.location_id.id, "nexudus_id": 990010}
        )
        self.assertEqual(row.transfer_state, "to_send")

    def test_people_keep_what_is_theirs(self):
        """The chatter, and the fields that are not the queue's, stay open to those with write access."""
        self.waiting.with_user(self.user).message_post(body="Called the member about it.")
        self.assertIn("Called the member", self.waiting.message_ids[0].body)
        self.waiting.with_user(self.manager).write({"customer_name": "Renamed by hand"})
        self.assertEqual(self.waiting.customer_name, "Renamed by hand")

    # -- Mark as dealt with ---------------------------------------------------------------------------
    def mark(self, person, rows, reason):
        action = rows.with_user(person).action_mark_dealt_with()
        self.assertEqual(action["res_model"], "nexudus.qbo.mark.dealt.with")
        wizard = self.env[action["res_model"]].with_user(person).with_context(action["context"])
        return wizard.create({"reason": reason}).action_confirm()

    def test_a_manager_marks_as_dealt_with_saying_why(self):
        reason = "Entered by hand in QuickBooks as invoice 1042 after the period was reopened"
        self.mark(self.manager, self.failed, reason)
        self.assertEqual(self.failed.transfer_state, "done_by_hand")
        self.assertIn(self.manager.name, self.failed.transfer_reason)
        self.assertIn(reason, self.failed.transfer_reason)
        self.assertIn("Failed", self.failed.transfer_reason, "what it was before")
        note = self.failed.message_ids.filtered(lambda m: reason in (m.body or ""))
        self.assertEqual(note.author_id, self.manager.partner_id, "who, in the chatter")
        self.assertIn(self.manager.name, note.body)

        self.mark(self.manager, self.payment, "Recorded by hand in QuickBooks")
        self.assertEqual(self.payment.state, "done_by_hand")
        self.assertIn("Recorded by hand in QuickBooks", self.payment.reason)
        self.assertIn(self.manager.name, self.payment.message_ids[0].body)

    def test_the_list_action_opens_the_dialog_for_the_selection(self):
        action = self.env.ref(f"{ADDON}.action_server_invoice_mark_dealt_with").with_user(self.manager)
        opened = action.with_context(active_model=self.waiting._name, active_ids=(self.waiting | self.failed).ids).run()
        wizard = self.env[opened["res_model"]].with_user(self.manager).with_context(opened["context"]).create(
            {"reason": "Both voided in Nexudus by hand"}
        )  # fmt: skip
        self.assertEqual(wizard.invoice_ids, self.waiting | self.failed)
        wizard.action_confirm()
        self.assertEqual(set((self.waiting | self.failed).mapped("transfer_state")), {"done_by_hand"})

    def test_a_user_cannot_mark_as_dealt_with(self):
        before = self.snapshot()
        with self.assertRaises(AccessError):
            self.failed.with_user(self.user).action_mark_dealt_with()
        with self.assertRaises(AccessError):
            self.env["nexudus.qbo.mark.dealt.with"].with_user(self.user).create(
                {"reason": "I did it", "invoice_ids": [Command.set(self.failed.ids)]}
            )
        with self.assertRaises(AccessError):
            self.failed.with_user(self.user)._mark_done_by_hand("I did it")
        for xmlid, row in (("action_server_invoice_mark_dealt_with", self.failed),
                           ("action_server_payment_mark_dealt_with", self.payment)):  # fmt: skip
            action = self.env.ref(f"{ADDON}.{xmlid}").with_user(self.user)
            with self.assertRaises(AccessError):
                action.with_context(active_model=row._name, active_ids=row.ids).run()
        self.assertEqual(self.snapshot(), before)

    def test_mark_as_dealt_with_needs_a_reason_and_something_left_to_do(self):
        with self.assertRaises(UserError):
            self.failed.with_user(self.manager)._mark_done_by_hand("   ")
        with self.assertRaises(UserError):
            self.mark(self.manager, self.sent, "Already in QuickBooks")
        self.assertEqual((self.failed.transfer_state, self.sent.transfer_state), ("failed", "sent"))

    def test_a_row_being_sent_now_cannot_be_marked(self):
        other = db_connect(self.env.cr.dbname).cursor()  # a worker holding the invoice
        try:
            other.execute("SELECT pg_advisory_lock(%s, %s)", (INVOICE_LOCK, self.failed.id))
            with self.assertRaises(UserError):
                self.failed.with_user(self.manager)._mark_done_by_hand("Entered by hand")
            other.execute("SELECT pg_advisory_unlock(%s, %s)", (INVOICE_LOCK, self.failed.id))
        finally:
            other.close()
        self.assertEqual(self.failed.transfer_state, "failed")


@tagged("post_install", "-at_install")
class TestQueueFieldsOverRpc(QueueRowsMixin, HttpCase):
    """The same refusals over the wire, with a client's forged context."""

    FORGED = {"nexudus_qbo_queue_write": True}

    def call_kw(self, login, model, method, args, kwargs=None):
        self.authenticate(login, login)
        with mute_logger("odoo.http"):
            response = self.url_open(
                f"/web/dataset/call_kw/{model}/{method}",
                data=json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "method": "call",
                        "id": 1,
                        "params": {
                            "model": model,
                            "method": method,
                            "args": args,
                            "kwargs": {"context": self.FORGED, **(kwargs or {})},
                        },
                    }
                ),
                headers={"Content-Type": "application/json"},
            )
        return response.json()

    def json2(self, person, model, method, body):
        key = (
            self.env["res.users.apikeys"]
            .with_user(person)
            ._generate(scope="rpc", name="queue test", expiration_date=datetime.now() + timedelta(hours=1))
        )
        with mute_logger("odoo.http"):
            return self.url_open(
                f"/json/2/{model}/{method}",
                data=json.dumps({**body, "context": self.FORGED}),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            )

    def assertRefusedOverRpc(self, answer, field):
        error = answer.get("error")
        self.assertTrue(error, f"accepted: {answer}")
        self.assertEqual(error["data"]["name"], "odoo.exceptions.AccessError")
        self.assertIn(f"({field})", error["data"]["message"])

    def test_call_kw_write_and_web_save_are_refused(self):
        before = self.snapshot()
        for person in (self.user, self.manager):
            for record, values in self.forbidden_writes():
                with self.subTest(person=person.login, values=values):
                    answer = self.call_kw(person.login, record._name, "write", [record.ids, values])
                    self.assertRefusedOverRpc(answer, next(iter(values)))
                    answer = self.call_kw(
                        person.login, record._name, "web_save", [record.ids, values], {"specification": {}}
                    )
                    self.assertRefusedOverRpc(answer, next(iter(values)))
        self.assertEqual(self.snapshot(), before)

    def test_json2_write_and_create_are_refused(self):
        before = self.snapshot()
        for person in (self.user, self.manager):
            for record, values in self.forbidden_writes():
                with self.subTest(person=person.login, values=values):
                    response = self.json2(person, record._name, "write", {"ids": record.ids, "vals": values})
                    self.assertEqual(response.status_code, 403, response.text)
                    self.assertEqual(response.json()["name"], "odoo.exceptions.AccessError")
                    self.assertIn(f"({next(iter(values))})", response.json()["message"])
        response = self.json2(
            self.manager,
            "nexudus.qbo.invoice",
            "create",
            {"vals_list": [{"company_id": self.env.company.id, "location_id": self.waiting.location_id.id,
                            "nexudus_id": 990011, "transfer_state": "sent", "qbo_id": "9011"}]},
        )  # fmt: skip
        self.assertEqual(response.status_code, 403, response.text)
        self.assertIn("(qbo_id)", response.json()["message"])
        self.assertEqual(self.snapshot(), before)
        self.assertFalse(self.env["nexudus.qbo.invoice"].search([("nexudus_id", "=", 990011)]))

    def test_a_user_cannot_mark_as_dealt_with_over_rpc(self):
        answer = self.call_kw(self.user.login, "nexudus.qbo.invoice", "action_mark_dealt_with", [self.failed.ids])
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        answer = self.call_kw(self.user.login, "nexudus.qbo.invoice", "_mark_done_by_hand", [self.failed.ids, "x"])
        self.assertTrue(answer.get("error"), "a private method is not callable over RPC")
        self.assertEqual(self.snapshot()[1][0], "failed")


@tagged("post_install", "-at_install")
class TestConnectorWorkUnderTheGuard(FreshServicesCase):
    """The connector's own work goes on as before: a User's clicks import, send and pull payments."""

    world_sizes = {"seed": 7, "profile": "uk", "locations": 3, "customers": 12, "invoices": 12, "payments": 0}

    def test_import_send_and_payments_by_a_users_clicks(self):
        company = prepare_transfers(self)
        complete_mappings(self)
        company.write({"nexudus_qbo_reconcile_payments": True})
        user = new_test_user(self.env, "queue_clicker", groups=f"base.group_user,{USER}")
        manager = new_test_user(self.env, "queue_boss", groups=f"base.group_user,{MANAGER}")
        invoices = self.env["nexudus.qbo.invoice"].with_user(user)
        with self.enter_registry_test_mode():
            invoices.action_import_from_nexudus()
        self.env.invalidate_all()
        ready = invoices.search([("transfer_state", "=", "to_send"), ("is_credit_note", "=", False)])
        self.assertGreaterEqual(len(ready), 2)
        by_hand, sent = ready[:2]
        wizard = (
            self.env["nexudus.qbo.mark.dealt.with"]
            .with_user(manager)
            .with_context(active_model=by_hand._name, active_ids=by_hand.ids)
            .create({"reason": "Entered by hand in QuickBooks"})
        )
        wizard.action_confirm()
        with self.enter_registry_test_mode():
            (by_hand | sent).action_send_to_qbo()
        self.env.invalidate_all()
        self.assertEqual((by_hand.transfer_state, sent.transfer_state), ("done_by_hand", "sent"))
        self.assertTrue(sent.qbo_id)
        self.assertFalse(by_hand.qbo_id, "the connector left alone what a person dealt with")
        notes = " ".join(row.get("PrivateNote") or "" for row in qbo_rows(self, "Invoice"))
        self.assertEqual(notes.count(f"[nexudus-invoice {sent.nexudus_id}]"), 1)
        self.assertNotIn(f"[nexudus-invoice {by_hand.nexudus_id}]", notes)

        total = Decimal(str(self.qbo.company.table("Invoice").get(sent.qbo_id)["TotalAmt"]))
        payment = self.qbo.record_payment(sent.qbo_id, str(total))
        with self.enter_registry_test_mode():
            self.env["nexudus.qbo.payment"].with_user(user).action_pull_from_qbo()
        self.env.invalidate_all()
        row = self.env["nexudus.qbo.payment"].search([("invoice_id", "=", sent.id)])
        self.assertEqual((row.state, row.qbo_payment_id), ("sent", payment["Id"]))
        self.assertTrue(row.nexudus_ledger_id)
