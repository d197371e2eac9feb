from odoo import fields, models


class NexudusQboPreflightLine(models.TransientModel):
    _name = "nexudus.qbo.preflight.line"
    _description = "Nexudus–QuickBooks pre-flight check"
    _order = "sequence"

    preflight_id = fields.Many2one("nexudus.qbo.preflight", required=True, ondelete="cascade")
    sequence = fields.Integer()
    name = fields.Char("Check", required=True)
    status = fields.Selection([("ok", "OK"), ("warning", "Warning"), ("error", "Blocking")], required=True)
    message = fields.Char(required=True)
    fix = fields.Char("How to fix")
