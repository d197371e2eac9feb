from odoo import fields, models

from .nexudus_qbo_run import DEFAULT_RETENTION_DAYS, RETENTION_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    nexudus_qbo_run_retention_days = fields.Integer(
        "Keep run history (days)", config_parameter=RETENTION_PARAM, default=DEFAULT_RETENTION_DAYS
    )
