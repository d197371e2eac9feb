"""The money and overview conventions for rows mirrored before them.

- Credit notes: ``qbo_total`` is signed as Nexudus signs it (negative), as new transfers store it.
- Every invoice has a currency (its own, else its location's), and the currencies used are active.
- Invoices skipped only for missing mappings are marked so, for the overview's count.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cr.execute("UPDATE nexudus_qbo_invoice SET qbo_total = -qbo_total WHERE is_credit_note AND qbo_total > 0")
    invoices = env["nexudus.qbo.invoice"]
    for row in invoices.search([("currency_id", "=", False)]):
        row.currency_id = row._currency_of(row._nexudus_record(), row.location_id)
    invoices.search([]).currency_id.filtered(lambda c: not c.active).active = True
    for row in invoices.search([("transfer_state", "=", "skipped")]):
        row.waiting_for_mappings = not row._skip_reason(mappings=False)
