from odoo import api, fields, models


class NexudusQboRunLine(models.Model):
    """What one run did for one company and location: rows read, sent, failed and skipped, payments
    moved each way, and the failed rows themselves. Requests and throttles belong to a service account,
    which a company's locations share: they are counted on the company's line without a location."""

    _name = "nexudus.qbo.run.line"
    _description = "Nexudus–QuickBooks run, per company and location"
    _order = "started_at desc, id desc"
    _check_company_auto = True

    run_id = fields.Many2one("nexudus.qbo.run", required=True, ondelete="cascade", index=True, readonly=True)
    started_at = fields.Datetime(related="run_id.started_at", store=True)
    trigger = fields.Selection(related="run_id.trigger", store=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    location_id = fields.Many2one(
        "nexudus.qbo.location", index="btree_not_null", readonly=True, check_company=True, ondelete="cascade",
        help="Empty: the company as a whole (requests and throttles, shared by its locations).",
    )  # fmt: skip
    scope = fields.Char("Where", compute="_compute_scope")
    read_count = fields.Integer("Invoices read", readonly=True)
    sent_count = fields.Integer("Invoices sent", readonly=True)
    failed_count = fields.Integer("Invoices failed", readonly=True)
    skipped_count = fields.Integer("Invoices skipped", readonly=True)
    payments_to_qbo = fields.Integer("Payments to QuickBooks", readonly=True)
    payments_to_nexudus = fields.Integer("Payments to Nexudus", readonly=True)
    payments_failed = fields.Integer("Payments failed", readonly=True)
    nexudus_requests = fields.Integer("Nexudus requests", readonly=True)
    qbo_requests = fields.Integer("QuickBooks requests", readonly=True)
    throttles = fields.Integer("Throttles met", readonly=True)
    failed_invoice_ids = fields.Many2many("nexudus.qbo.invoice", string="Failed invoices", readonly=True)
    failed_payment_ids = fields.Many2many("nexudus.qbo.payment", string="Failed payments", readonly=True)

    _run_company_location_uniq = models.UniqueIndex(
        "(run_id, company_id, COALESCE(location_id, 0))", "One line per run, company and location."
    )

    @api.depends("location_id", "company_id")
    def _compute_scope(self):
        for line in self:
            line.scope = line.location_id.name or self.env._(
                "%(company)s (requests, throttles)", company=line.company_id.name
            )

    def action_open_failed_invoices(self):
        return self._open(self.failed_invoice_ids, self.env._("Failed invoices"))

    def action_open_failed_payments(self):
        return self._open(self.failed_payment_ids, self.env._("Failed payments"))

    def _open(self, rows, name):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": rows._name,
            "view_mode": "list,form",
            "domain": [("id", "in", rows.ids)],
        }
