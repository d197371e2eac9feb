"""Webhook deliveries accepted, kept just long enough to refuse the same delivery twice."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

# QuickBooks deliveries older than two hours are refused as stale (tools/webhooks.py), so their keys need not be
# kept longer; a day also covers Nexudus's, which carry no documented time: the same body is refused that long.
RETENTION = timedelta(days=1)


class NexudusQboWebhookDelivery(models.Model):
    _name = "nexudus.qbo.webhook.delivery"
    _description = "Nexudus–QuickBooks webhook delivery"
    _order = "received_at desc, id desc"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    source = fields.Selection([("nexudus", "Nexudus"), ("qbo", "QuickBooks Online")], required=True)
    key = fields.Char(required=True, help="The digest of the body, or of the CloudEvents ids.")
    received_at = fields.Datetime(required=True, default=fields.Datetime.now)
    summary = fields.Char(help="What the delivery said changed, as far as it says.")

    _source_key_uniq = models.UniqueIndex("(company_id, source, key)")

    @api.model
    def _claim(self, company, source, key, summary):
        """Record a delivery; False when the same one was already recorded (a replay). Atomic across workers."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO nexudus_qbo_webhook_delivery
                       (company_id, source, key, summary, received_at, create_uid, create_date, write_uid, write_date)
                   VALUES (%(company)s, %(source)s, %(key)s, %(summary)s, now() at time zone 'UTC',
                           %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC')
                   ON CONFLICT DO NOTHING RETURNING id""",
                company=company.id,
                source=source,
                key=key,
                summary=(summary or "")[:200] or None,
                uid=self.env.uid,
            )
        )
        return bool(self.env.cr.fetchone())

    @api.autovacuum
    def _gc_deliveries(self):
        """Forget deliveries older than a day: older ones are refused as stale or trigger a harmless run."""
        self.sudo().search([("received_at", "<", fields.Datetime.now() - RETENTION)]).unlink()
