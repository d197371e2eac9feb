import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from odoo import api, fields, models

from .nexudus_qbo_run import OUTCOMES

CRON = "nexudus_qbo_connector.ir_cron_nexudus_qbo_sync"
GRAPH_DAYS = 14
WAITING_STATES = ("to_send", "sending", "failed", "to_delete")  # not in QuickBooks yet, and going there


class NexudusQboLocation(models.Model):
    """The overview: one card per company and location served, as Accounting shows its journals.

    Every count opens the list it counts: both take their domain from ``_overview_domain``, the one place
    for it."""

    _inherit = "nexudus.qbo.location"

    is_served = fields.Boolean(compute="_compute_is_served", search="_search_is_served")
    count_to_send = fields.Integer("To send", compute="_compute_overview")
    count_sent_today = fields.Integer("Sent today", compute="_compute_overview")
    count_failed = fields.Integer("Failed", compute="_compute_overview")
    count_waiting = fields.Integer("Waiting for mappings", compute="_compute_overview")
    count_payments = fields.Integer("Payments needing attention", compute="_compute_overview")
    oldest_waiting_days = fields.Integer(
        "Oldest not in QuickBooks (days)",
        compute="_compute_overview",
        help="The age of the oldest invoice still to go to QuickBooks (to send, sending, failed, or waiting for its "
        "mappings), from its issue date.",
    )
    has_waiting = fields.Boolean(compute="_compute_overview")
    sent_graph = fields.Text("Sent per day", compute="_compute_overview")
    last_run_id = fields.Many2one("nexudus.qbo.run", "Last run", compute="_compute_overview")
    last_run_at = fields.Datetime("Last run at", compute="_compute_overview")
    last_run_outcome = fields.Selection(OUTCOMES, "Last run outcome", compute="_compute_overview")
    next_run_at = fields.Datetime("Next run", compute="_compute_overview")
    qbo_state = fields.Selection(related="company_id.qbo_state")
    qbo_last_request_at = fields.Datetime("QuickBooks: last request", compute="_compute_health")
    qbo_throttled_until = fields.Datetime("QuickBooks: throttled until", compute="_compute_health")
    nexudus_last_request_at = fields.Datetime("Nexudus: last request", compute="_compute_health")
    nexudus_throttled_until = fields.Datetime("Nexudus: throttled until", compute="_compute_health")
    nexudus_needs_reconnect = fields.Boolean("Nexudus: needs reconnect", compute="_compute_health")

    def _compute_is_served(self):
        for location in self:
            location.is_served = location in location.company_id.nexudus_location_ids

    def _search_is_served(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        served = self.env["res.company"].search([("nexudus_location_ids", "!=", False)]).nexudus_location_ids
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", served.ids)]

    # -- the one place for each count's domain -------------------------------------------------------
    @api.model
    def _overview_keys(self):
        return {
            "to_send": ("nexudus.qbo.invoice", self.env._("Invoices to send")),
            "sent_today": ("nexudus.qbo.invoice", self.env._("Invoices sent today")),
            "failed": ("nexudus.qbo.invoice", self.env._("Failed invoices")),
            "waiting": ("nexudus.qbo.invoice", self.env._("Invoices waiting for mappings")),
            "payments": ("nexudus.qbo.payment", self.env._("Payments needing attention")),
        }

    @api.model
    def _overview_domain(self, key):
        """The domain of count ``key``, for every location (the caller adds the location)."""
        return {
            "to_send": [("transfer_state", "in", ("to_send", "sending", "to_void"))],
            "sent_today": [("transfer_state", "=", "sent"), ("last_transfer_at", ">=", self._start_of_today())],
            "failed": [("transfer_state", "in", ("failed", "to_delete"))],
            "waiting": [("transfer_state", "=", "skipped"), ("waiting_for_mappings", "=", True)],
            # a payment held for its invoice or credit note only waits: it follows them by itself
            "payments": [
                "|",
                ("state", "in", ("failed", "attention", "review")),
                "&",
                ("state", "=", "held"),
                ("waiting_for", "=", "settings"),
            ],
        }[key]

    @api.model
    def _start_of_today(self):
        """Midnight in the user's time zone, as a UTC datetime."""
        zone = ZoneInfo(self.env.context.get("tz") or self.env.user.tz or "UTC")
        midnight = datetime.combine(fields.Date.context_today(self), time.min, tzinfo=zone)
        return midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    def _overview_action(self, key):
        self.ensure_one()
        model, name = self._overview_keys()[key]
        return {
            "type": "ir.actions.act_window",
            "name": f"{name} – {self.name}",
            "res_model": model,
            "view_mode": "list,form,pivot,graph",
            "views": [(False, "list"), (False, "form"), (False, "pivot"), (False, "graph")],
            "domain": [("location_id", "=", self.id), *self._overview_domain(key)],
            "context": {"create": False},
        }

    def action_open_to_send(self):
        return self._overview_action("to_send")

    def action_open_sent_today(self):
        return self._overview_action("sent_today")

    def action_open_failed(self):
        return self._overview_action("failed")

    def action_open_waiting(self):
        return self._overview_action("waiting")

    def action_open_payments(self):
        return self._overview_action("payments")

    def action_open_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("nexudus_qbo_connector.action_nexudus_qbo_invoice")
        action["domain"] = [("location_id", "=", self.id)]
        return action

    def action_open_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("nexudus_qbo_connector.action_nexudus_qbo_run_line")
        action["domain"] = [("location_id", "=", self.id)]
        return action

    # -- computing the cards ----------------------------------------------------------------------------
    def _counts(self, key):
        model, _name = self._overview_keys()[key]
        domain = [("location_id", "in", self.ids), *self._overview_domain(key)]
        return dict(self.env[model]._read_group(domain, ["location_id"], ["__count"]))

    def _compute_overview(self):
        counts = {key: self._counts(key) for key in self._overview_keys()}
        invoices = self.env["nexudus.qbo.invoice"]
        waiting_domain = [
            ("location_id", "in", self.ids),
            "|", ("transfer_state", "in", WAITING_STATES), ("waiting_for_mappings", "=", True),
        ]  # fmt: skip
        oldest = dict(invoices._read_group(waiting_domain, ["location_id"], ["issue_date:min"]))
        since = fields.Date.context_today(self) - timedelta(days=GRAPH_DAYS - 1)
        sent = invoices._read_group(
            [("location_id", "in", self.ids), ("transfer_state", "=", "sent"), ("last_transfer_at", ">=", since)],
            ["location_id", "last_transfer_at:day"],
            ["__count"],
        )
        per_day = {(location.id, day.date()): count for location, day, count in sent}
        cron = self.env.ref(CRON, raise_if_not_found=False)
        today = fields.Date.context_today(self)
        for location in self:
            location.count_to_send = counts["to_send"].get(location, 0)
            location.count_sent_today = counts["sent_today"].get(location, 0)
            location.count_failed = counts["failed"].get(location, 0)
            location.count_waiting = counts["waiting"].get(location, 0)
            location.count_payments = counts["payments"].get(location, 0)
            first = oldest.get(location)
            location.has_waiting = bool(first)
            location.oldest_waiting_days = (today - first).days if first else 0
            location.sent_graph = json.dumps(location._graph(per_day, since))
            run = location._last_run()
            location.last_run_id = run
            location.last_run_at = run.started_at
            location.last_run_outcome = run.outcome
            location.next_run_at = cron.sudo().nextcall if cron and cron.sudo().active else False

    def _graph(self, per_day, since):
        values = []
        for offset in range(GRAPH_DAYS):
            day = since + timedelta(days=offset)
            label = day.strftime("%d %b")
            values.append({"label": label, "value": per_day.get((self.id, day), 0), "type": "past"})
        return [{"key": self.env._("Sent to QuickBooks"), "values": values, "is_sample_data": False}]

    def _last_run(self):
        """The latest run that did something here, else the latest scheduled run."""
        line = self.env["nexudus.qbo.run.line"].sudo().search([("location_id", "=", self.id)], order="id desc", limit=1)
        return line.run_id or self.env["nexudus.qbo.run"].sudo().search([("trigger", "=", "scheduled")], limit=1)

    def _compute_health(self):
        budgets = self.env["nexudus.qbo.rate.budget"].sudo()
        tokens = self.env["nexudus.qbo.token"].sudo()
        for location in self:
            company = location.company_id.sudo()
            accounts = {"qbo": company.qbo_realm_id, "nexudus": (company.nexudus_email or "").strip().lower()}
            for service, account in accounts.items():
                row = budgets.search([("service", "=", service), ("account", "=", account or "")], limit=1)
                location[f"{service}_last_request_at"] = row.last_request_at
                location[f"{service}_throttled_until"] = budgets._blocked_until(service, account) if row else False
            location.nexudus_needs_reconnect = tokens._get(company, "nexudus").state == "needs_reconnect"
