import json
from unittest.mock import patch

from odoo.tests import new_test_user, tagged

from .common import FreshServicesCase
from .transfer_common import complete_mappings, import_invoices, prepare_transfers, send

MIXIN = "odoo.addons.nexudus_qbo_connector.models.nexudus_qbo_transfer_mixin"
CRON = "nexudus_qbo_connector.ir_cron_nexudus_qbo_sync"


def notifications_to(env, user):
    """The simple notifications sent on the bus to ``user``."""
    rows = env["bus.bus"].sudo().search([], order="id")
    return [
        json.loads(row.message)
        for row in rows
        if json.loads(row.channel)[1:] == ["res.partner", user.partner_id.id]
        and json.loads(row.message)["type"] == "simple_notification"
    ]


@tagged("standard", "post_install", "-at_install")
class TestBackgroundSend(FreshServicesCase):
    """A click on more invoices than the threshold is carried out by the scheduled action, which tells the
    person who clicked once it is done; a smaller click is done at once."""

    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        complete_mappings(self)
        invoices = import_invoices(self)
        self.ready = invoices.filtered(lambda r: r.transfer_state == "to_send" and not r.is_credit_note)
        self.user = new_test_user(
            self.env, login="nqc_background_user", groups="nexudus_qbo_connector.group_nexudus_qbo_user"
        )
        patcher = patch(f"{MIXIN}.BACKGROUND_THRESHOLD", 5)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _click_send(self, rows):
        with self.enter_registry_test_mode():
            return rows.with_user(self.user).action_send_to_qbo()["params"]

    def _notifications(self):
        return notifications_to(self.env, self.user)

    def test_a_click_over_the_threshold_continues_in_the_background_and_notifies_the_person(self):
        rows = self.ready[:8]
        self.assertEqual(len(rows), 8)
        params = self._click_send(rows)
        self.assertIn("8 continue in the background", params["message"])
        self.assertIn("a notification follows when they are done", params["message"])
        self.assertEqual(params["type"], "success")
        rows.invalidate_recordset()
        self.assertEqual(set(rows.mapped("transfer_state")), {"to_send"}, "nothing sent by the click itself")
        self.assertTrue(all(rows.mapped("send_requested")))
        self.assertEqual(rows.requested_by_id, self.user)
        cron = self.env.ref(CRON)
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]), "the cron is started")
        self.assertFalse(self._notifications())

        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(set(rows.mapped("transfer_state")), {"sent"}, rows.mapped("transfer_reason"))
        self.assertFalse(rows.requested_by_id, "the request is done")
        run = self.env["nexudus.qbo.run"].search([("trigger", "=", "scheduled")], limit=1)
        self.assertEqual(run.sent_count, 8, "the run's record counts what it sent")
        notifications = self._notifications()
        self.assertEqual(len(notifications), 1, "one notification, to the person who clicked")
        payload = notifications[0]["payload"]
        self.assertEqual(payload["title"], "Send to QuickBooks: done")
        self.assertEqual((payload["message"], payload["type"]), ("8 created in QuickBooks.", "success"))

        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertEqual(len(self._notifications()), 1, "told once")

    def test_a_click_under_the_threshold_is_done_at_once(self):
        rows = self.ready[:3]
        params = self._click_send(rows)
        self.assertEqual((params["message"], params["type"]), ("3 created in QuickBooks.", "success"))
        rows.invalidate_recordset()
        self.assertEqual(set(rows.mapped("transfer_state")), {"sent"})
        self.assertFalse(rows.requested_by_id)

    def test_sync_now_hands_more_than_a_chunk_to_the_background(self):
        self.env.company.nexudus_qbo_auto_send_invoices = True
        to_send = self.env["nexudus.qbo.invoice"].search([("transfer_state", "=", "to_send")])
        self.assertGreater(len(to_send), 3)
        with patch(f"{MIXIN}.BACKGROUND_THRESHOLD", 3), self.enter_registry_test_mode():
            params = self.env["nexudus.qbo.invoice"].action_import_from_nexudus()["params"]
        self.assertIn(f"{len(to_send)} continue in the background", params["message"])
        self.assertEqual(set(to_send.mapped("transfer_state")), {"to_send"})
        self.assertEqual(to_send.requested_by_id, self.env.user)


@tagged("standard", "post_install", "-at_install")
class TestBackgroundPayments(FreshServicesCase):
    """Sync now › Payments from Nexudus finding more payments than the threshold: moved by the scheduled
    action, even with the payment options off, and the person told."""

    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        complete_mappings(self)
        invoices = import_invoices(self)
        send(self, invoices.filtered(lambda r: r.transfer_state == "to_send"))

    def test_payments_from_nexudus_over_the_threshold_continue_in_the_background(self):
        payments = self.env["nexudus.qbo.payment"]
        with patch(f"{MIXIN}.BACKGROUND_THRESHOLD", 1), self.enter_registry_test_mode():
            params = payments.action_import_from_nexudus()["params"]
        rows = payments.search([("requested_by_id", "=", self.env.uid)])
        self.assertGreater(len(rows), 1)
        self.assertIn(f"{len(rows)} continue in the background", params["message"])
        self.assertEqual(set(rows.mapped("state")) - {"to_send", "held"}, set(), "nothing moved by the click")

        with self.enter_registry_test_mode():
            self.env.ref(CRON).method_direct_trigger()
        self.env.invalidate_all()
        self.assertFalse(rows.requested_by_id)
        self.assertIn("sent", rows.mapped("state"), rows.mapped("reason"))
        notifications = notifications_to(self.env, self.env.user)
        self.assertEqual(len(notifications), 1)
        self.assertEqual(notifications[0]["payload"]["title"], "Sync payments: done")
        self.assertIn("created in QuickBooks", notifications[0]["payload"]["message"])
