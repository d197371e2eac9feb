from odoo import models


class NexudusQboTransferMixin(models.AbstractModel):
    """Asking a person to act on a row: the one rule invoices and payments share."""

    _inherit = "nexudus.qbo.transfer.mixin"

    def _ask_manager(self, summary, note):
        """Give the company's responsible manager a to-do on each of these rows, unless one of theirs is
        still open there (a row failing again does not pile up to-dos)."""
        todo = self.env.ref("mail.mail_activity_data_todo")
        for row in self:
            manager = row._responsible_manager()
            if not manager:
                continue
            if row.activity_ids.filtered(lambda a, m=manager: a.user_id == m and a.activity_type_id == todo):
                continue
            row.activity_schedule("mail.mail_activity_data_todo", summary=summary, note=note, user_id=manager.id)

    def _responsible_manager(self):
        """The first active internal user of the connector's Manager group who works in the row's company
        (not OdooBot)."""
        group = self.env.ref("nexudus_qbo_connector.group_nexudus_qbo_manager")
        managers = group.sudo().user_ids.filtered(
            lambda u: u.active and not u.share and not u._is_superuser() and self.company_id in u.company_ids
        )
        return managers.sorted("id")[:1]
