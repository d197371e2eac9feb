import ast
import json
from unittest.mock import patch

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import FreshServicesCase
from .transfer_common import complete_mappings, import_invoices, link_customers, prepare_transfers, send

TRANSFER = "odoo.addons.nexudus_qbo_connector.models.nexudus_qbo_invoice"
KEYS = ("to_send", "sent_today", "failed", "waiting", "payments")


@tagged("standard", "post_install", "-at_install")
class TestOverview(FreshServicesCase):
    """The overview's cards: each count is the size of the list it opens."""

    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        complete_mappings(self)
        invoices = import_invoices(self)
        ready = invoices.filtered(lambda r: r.transfer_state == "to_send" and not r.is_credit_note)
        four = ready.sorted(lambda r: (r.issue_date, r.id))[:4]
        self.failed = four[0]  # sent first: the refused write is its
        link_customers(self, four)
        self.qbo.fail_next_write(count=2, status=400)  # their batch refused as a whole, then the first alone
        with patch(f"{TRANSFER}._logger"):
            send(self, four)
        self.assertEqual(self.failed.transfer_state, "failed")
        self.invoices = invoices
        action = self.env.ref("nexudus_qbo_connector.action_nexudus_qbo_overview")
        self.cards = self.env["nexudus.qbo.location"].search(ast.literal_eval(action.domain))

    def test_the_overview_is_the_first_screen_and_shows_the_served_locations(self):
        root = self.env.ref("nexudus_qbo_connector.menu_nexudus_qbo_root")
        first = root.child_id.sorted(lambda m: (m.sequence, m.id))[0]
        self.assertEqual(first, self.env.ref("nexudus_qbo_connector.menu_nexudus_qbo_overview"))
        self.assertEqual(self.cards, self.env.company.nexudus_location_ids)

    def test_each_count_equals_the_list_it_opens(self):
        totals = dict.fromkeys(KEYS, 0)
        for card in self.cards:
            for key in KEYS:
                action = getattr(card, f"action_open_{key}")()
                listed = self.env[action["res_model"]].search_count(action["domain"])
                self.assertEqual(card[f"count_{key}"], listed, f"{card.name}: {key}")
                totals[key] += listed
        self.assertEqual(totals["failed"], 1)
        self.assertEqual(totals["sent_today"], 3)
        self.assertEqual(totals["to_send"], len(self.invoices.filtered(lambda r: r.transfer_state == "to_send")))
        self.assertEqual(totals["waiting"], len(self.invoices.filtered(lambda r: r.waiting_for_mappings)))
        self.assertGreater(totals["waiting"], 0, "the seed leaves Product Sales unmapped")
        card = self.cards.filtered(lambda c: c == self.failed.location_id)
        opened = self.env["nexudus.qbo.invoice"].search(card.action_open_failed()["domain"])
        self.assertEqual(opened, self.failed)

    def test_card_shows_age_runs_health_and_the_graph(self):
        card = self.cards.filtered(lambda c: c == self.failed.location_id)
        waiting = self.invoices.filtered(
            lambda r: r.location_id == card and (r.transfer_state in ("to_send", "failed") or r.waiting_for_mappings)
        )
        oldest = min(waiting.mapped("issue_date"))
        self.assertEqual(card.oldest_waiting_days, (fields.Date.context_today(card) - oldest).days)
        cron = self.env.ref("nexudus_qbo_connector.ir_cron_nexudus_qbo_sync")
        self.assertEqual(card.next_run_at, cron.nextcall)
        self.assertEqual(card.last_run_outcome, "failures", "the click that failed an invoice here")
        self.assertEqual(card.qbo_state, "connected")
        self.assertTrue(card.qbo_last_request_at)
        self.assertTrue(card.nexudus_last_request_at)
        self.assertFalse(card.qbo_throttled_until)
        graph = json.loads(card.sent_graph)
        self.assertEqual(len(graph[0]["values"]), 14)
        self.assertEqual(graph[0]["values"][-1]["value"], card.count_sent_today)
        arch = self.env["nexudus.qbo.location"].get_views([(False, "kanban")])["views"]["kanban"]["arch"]
        self.assertIn('widget="dashboard_graph"', arch)
        self.assertIn('name="action_open_failed"', arch)

    def test_a_user_of_the_connector_sees_the_cards_and_opens_their_lists(self):
        user = new_test_user(self.env, login="nqc_overview_user", groups="nexudus_qbo_connector.group_nexudus_qbo_user")
        cards = self.cards.with_user(user)
        cards.invalidate_recordset()
        fields_read = cards.read(
            ["count_failed", "sent_graph", "last_run_outcome", "qbo_throttled_until", "next_run_at"]
        )
        self.assertEqual(sum(row["count_failed"] for row in fields_read), 1)
        card = cards.filtered(lambda c: c.id == self.failed.location_id.id)
        action = card.action_open_failed()
        self.assertEqual(self.env[action["res_model"]].with_user(user).search(action["domain"]), self.failed)
        runs = card.action_open_runs()
        self.assertTrue(self.env[runs["res_model"]].with_user(user).search(runs["domain"]))
