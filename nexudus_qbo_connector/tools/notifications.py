"""The one shape of what the connector's buttons answer with: Odoo's ``display_notification``, then the
screen reloaded (or ``then``, another action)."""

SOFT_RELOAD = {"type": "ir.actions.client", "tag": "soft_reload"}


def notification(title, message, kind="success", *, sticky=False, then=SOFT_RELOAD):
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": {"title": title, "message": message, "type": kind, "sticky": sticky, "next": then},
    }
