from datetime import datetime, timedelta, timezone

import psycopg2.errors

from odoo import fields, models
from odoo.exceptions import UserError

from ..tools.errors import InvalidGrantError
from ..tools.redaction import get_logger
from ..tools.texts import translated
from .encrypted_fields import CONFIG_OPTION, encrypt_at_rest, encrypted_char, unreadable

_logger = get_logger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)  # refresh an access token this long before it expires
MAX_LOCK_ATTEMPTS = 5


class NexudusQboToken(models.Model):
    """The current tokens of one company for one service, one row each, and the connection's state.

    Tokens live apart from ``res.company`` so that storing a rotated token in its own transaction never
    waits on a company row that the calling transaction has locked (saving Settings writes the company).
    Only administrators can read this model; the connector reaches it with ``sudo()``.
    """

    _name = "nexudus.qbo.token"
    _description = "Nexudus–QuickBooks connection"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _rec_name = "company_id"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    service = fields.Selection([("nexudus", "Nexudus"), ("qbo", "QuickBooks Online")], required=True)
    state = fields.Selection(
        [("connected", "Connected"), ("needs_reconnect", "Needs reconnect")],
        default="connected",
        required=True,
    )
    access_token, access_token_encrypted = encrypted_char("access_token", "Access token")
    access_expires_at = fields.Datetime(copy=False)
    refresh_token, refresh_token_encrypted = encrypted_char("refresh_token", "Refresh token")
    refresh_expires_at = fields.Datetime(copy=False)
    refresh_hard_expires_at = fields.Datetime("Refresh token final expiry", copy=False)

    _company_service_uniq = models.UniqueIndex("(company_id, service)", "One token row per company and service.")

    def init(self):
        encrypt_at_rest(self)
        return super().init()

    def _get(self, company, service):
        return self.sudo().search([("company_id", "=", company.id), ("service", "=", service)], limit=1)

    def _store(self, company, service, values):
        """Write ``values`` on the company's token row in a transaction of its own, committed at once.

        A rotated refresh token is the only valid one: a rollback of the caller's transaction must not
        lose it.
        """
        self._in_locked_row(company, service, lambda row: row.write(values))

    def _drop(self, company, service):
        """Forget the company's tokens for ``service``, in a transaction of its own like ``_store`` (a token
        stored next in the same request must not wait on a row this transaction deleted)."""
        with self.env.registry.cursor() as cr:
            self.with_env(self.env(cr=cr, su=True)).search(
                [("company_id", "=", company.id), ("service", "=", service)]
            ).unlink()
        self.env.invalidate_all()

    def _in_locked_row(self, company, service, work):
        """Run ``work(row)`` on the company's token row, locked, in a transaction of its own that is
        committed when ``work`` returns, and return what ``work`` returned.

        Odoo transactions are REPEATABLE READ: a worker that waited for the lock while another one
        refreshed gets a serialization failure. It then starts again in a new transaction, which sees
        the other worker's token.
        """
        for attempt in range(1, MAX_LOCK_ATTEMPTS + 1):
            try:
                with self.env.registry.cursor() as cr:
                    row = self.with_env(self.env(cr=cr, su=True)).browse(self._lock_row(cr, company, service))
                    result = work(row)
                break
            except psycopg2.errors.SerializationFailure:
                if attempt == MAX_LOCK_ATTEMPTS:
                    raise
        self.env.invalidate_all()
        return result

    def _lock_row(self, cr, company, service):
        """Create the row if needed and lock it (``SELECT … FOR UPDATE``) in ``cr``; return its id."""
        cr.execute(
            """INSERT INTO nexudus_qbo_token
                      (company_id, service, state, create_uid, write_uid, create_date, write_date)
               VALUES (%s, %s, 'connected', %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')
               ON CONFLICT (company_id, service) DO NOTHING""",
            (company.id, service, self.env.uid, self.env.uid),
        )
        cr.execute(
            "SELECT id FROM nexudus_qbo_token WHERE company_id = %s AND service = %s FOR UPDATE",
            (company.id, service),
        )
        return cr.fetchone()[0]

    # -- QuickBooks access token -----------------------------------------------------------------
    def _qbo_access_token(self, company, oauth, stale=None):
        """A valid QuickBooks access token for ``company``, refreshed first if it is about to expire
        (or equals ``stale``, a token QuickBooks just refused).

        The refresh runs in its own transaction holding the token row's lock: a second worker that
        wants to refresh at the same moment waits for the first, then finds the new token and makes
        no call of its own. The new refresh token is committed before this returns. ``invalid_grant``
        marks the connection "needs reconnect" and tells the administrators; nothing retries it.
        """
        token = self._get(company, "qbo")
        if token.state == "connected" and token._usable(stale):
            return token.access_token
        not_connected = UserError(
            company.env._(
                "QuickBooks is not connected for %(company)s: open Settings › Nexudus ↔ QuickBooks Online and click "
                "Connect with QuickBooks.",
                company=company.name,
            )
        )

        # The row is read again under its lock, in a transaction of its own: the caller's snapshot may
        # predate a token another transaction committed (a connection made or refreshed meanwhile).
        def refresh(locked):
            if unreadable(locked, "refresh_token"):
                return None, UserError(
                    company.env._(
                        "The QuickBooks connection stored for %(company)s cannot be read: Odoo's configuration lacks "
                        "the encryption key it was saved with (%(option)s, missing or replaced). Restore that key, "
                        "or open Settings › Nexudus ↔ QuickBooks Online and click Connect with QuickBooks again.",
                        company=company.name,
                        option=CONFIG_OPTION,
                    )
                )
            if locked.state == "needs_reconnect" or not locked.refresh_token:
                return None, not_connected
            if locked._usable(stale):  # another worker refreshed while we waited for the lock
                return locked.access_token, None
            try:
                tokens = oauth.refresh(locked.refresh_token)
            except InvalidGrantError as exc:
                locked._mark_needs_reconnect(translated(self.env, exc))
                return None, UserError(translated(self.env, exc))
            locked.write(self._token_values(tokens))
            return tokens["access_token"], None

        access_token, error = self._in_locked_row(company, "qbo", refresh)
        if error:
            raise error
        return access_token

    def _usable(self, stale=None):
        self.ensure_one()
        if not self.access_token or self.state != "connected" or self.access_token == stale:
            return False
        return bool(self.access_expires_at) and self.access_expires_at - REFRESH_MARGIN > fields.Datetime.now()

    def _token_values(self, tokens):
        values = {
            "state": "connected",
            "access_token": tokens["access_token"],
            "access_expires_at": _utc(tokens["expires_at"]),
            "refresh_token": tokens["refresh_token"],
        }
        for key, field in (
            ("refresh_expires_at", "refresh_expires_at"),
            ("refresh_hard_expires_at", "refresh_hard_expires_at"),
        ):
            if tokens.get(key):
                values[field] = _utc(tokens[key])
        return values

    def _mark_needs_reconnect(self, reason):
        """Stop using the connection and ask the Settings administrators to reconnect it."""
        self.ensure_one()
        self.write({"state": "needs_reconnect", "access_token": False, "refresh_token": False})
        _logger.warning("QuickBooks connection of company %s needs a reconnect: %s", self.company_id.id, reason)
        summary = self.env._("Reconnect QuickBooks Online")
        note = self.env._(
            "QuickBooks refused the connection of %(company)s (%(reason)s). Transfers are stopped until an "
            "administrator opens Settings › Nexudus ↔ QuickBooks Online and clicks Connect with QuickBooks.",
            company=self.company_id.name,
            reason=reason,
        )
        self.message_post(body=note)
        admins = self.env.ref("base.group_system").user_ids.filtered(
            lambda user: not user.share and self.company_id in user.company_ids
        )
        for admin in admins:
            self.activity_schedule("mail.mail_activity_data_todo", summary=summary, note=note, user_id=admin.id)


def _utc(timestamp):
    return datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)
