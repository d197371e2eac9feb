"""A run's form in a real browser follows the run while it goes."""

from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestRunLiveTour(HttpCase):
    def test_the_run_form_shows_counts_as_they_are_committed(self):
        now = fields.Datetime.now()
        run = self.env["nexudus.qbo.run"].create({"key": "tour", "started_at": now, "ended_at": now})
        line = self.env["nexudus.qbo.run.line"].create({"run_id": run.id, "company_id": self.env.company.id})
        self.start_tour(
            f"/odoo/action-nexudus_qbo_connector.action_nexudus_qbo_run/{run.id}",
            "nexudus_qbo_run_live_tour",
            login="admin",
        )
        self.assertEqual((line.sent_count, run.sent_count, run.finished), (7, 7, True))
