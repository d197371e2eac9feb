"""The scheduled action counts its interval in minutes and has one lane per served company beyond the
first (``nexudus.qbo.scheduler._plan``)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    api.Environment(cr, SUPERUSER_ID, {})["nexudus.qbo.scheduler"]._plan()
