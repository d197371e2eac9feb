import json

from odoo import fields, models


class NexudusQboCoworker(models.Model):
    """A Nexudus customer (coworker) as last read, in bulk with the invoices: what a QuickBooks customer is
    made from, so that sending an invoice of a new customer needs no Nexudus request of its own."""

    _name = "nexudus.qbo.coworker"
    _description = "Nexudus customer"
    _order = "full_name"
    _rec_name = "full_name"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True, ondelete="cascade")
    nexudus_id = fields.Integer("Nexudus ID", required=True, readonly=True)
    full_name = fields.Char(readonly=True)
    billing_name = fields.Char(readonly=True)
    nexudus_updated_on = fields.Char("Updated in Nexudus", readonly=True)
    nexudus_json = fields.Text(readonly=True, groups="base.group_no_one")

    _company_nexudus_uniq = models.UniqueIndex("(company_id, nexudus_id)", "This Nexudus customer is already read.")

    def _record(self):
        return json.loads(self.sudo().nexudus_json or "{}")

    def _upsert(self, company, records):
        """Store the Nexudus coworker dicts ``records`` (a list page: partial records, which hold every
        field a customer is made from)."""
        existing = {
            row.nexudus_id: row
            for row in self.search([("company_id", "=", company.id), ("nexudus_id", "in", [r["Id"] for r in records])])
        }
        new = []
        for record in records:
            values = {
                "full_name": record.get("FullName") or False,
                "billing_name": record.get("BillingName") or False,
                "nexudus_updated_on": record.get("UpdatedOn"),
                "nexudus_json": json.dumps(record, default=str),
            }
            row = existing.get(record["Id"])
            if not row:
                new.append({**values, "company_id": company.id, "nexudus_id": record["Id"]})
            elif row.nexudus_updated_on != values["nexudus_updated_on"]:
                row.write(values)
        self.create(new)
