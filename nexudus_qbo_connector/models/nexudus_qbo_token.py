from odoo import fields, models


class NexudusQboToken(models.Model):
    """The current tokens of one company for one service, one row each.

    Tokens live apart from ``res.company`` so that storing a rotated token in its own transaction never
    waits on a company row that the calling transaction has locked (saving Settings writes the company).
    Only administrators can read this model; the connector reaches it with ``sudo()``.
    """

    _name = "nexudus.qbo.token"
    _description = "Nexudus–QuickBooks connection tokens"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    service = fields.Selection([("nexudus", "Nexudus"), ("qbo", "QuickBooks Online")], required=True)
    access_token = fields.Char(copy=False)
    access_expires_at = fields.Datetime(copy=False)
    refresh_token = fields.Char(copy=False)
    refresh_expires_at = fields.Datetime(copy=False)

    _company_service_uniq = models.UniqueIndex("(company_id, service)", "One token row per company and service.")

    def _store(self, company, service, values):
        """Write ``values`` on the company's token row in a transaction of its own, committed at once.

        A rotated refresh token is the only valid one: a rollback of the caller's transaction must not
        lose it.
        """
        with self.env.registry.cursor() as cr:
            cr.execute(
                """INSERT INTO nexudus_qbo_token (company_id, service, create_uid, write_uid, create_date, write_date)
                   VALUES (%s, %s, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')
                   ON CONFLICT (company_id, service) DO NOTHING""",
                (company.id, service, self.env.uid, self.env.uid),
            )
            env = self.env(cr=cr, su=True)
            env[self._name].search([("company_id", "=", company.id), ("service", "=", service)]).write(values)
        self.env.invalidate_all()

    def _get(self, company, service):
        return self.sudo().search([("company_id", "=", company.id), ("service", "=", service)], limit=1)
