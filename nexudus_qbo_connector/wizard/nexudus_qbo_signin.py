from odoo import api, fields, models

from ..tools.errors import ApiError, AuthError
from ..tools.notifications import notification
from ..tools.texts import translated


class NexudusQboSignin(models.TransientModel):
    """The Nexudus sign-in dialog of Settings: email and password, then the two-factor code when Nexudus
    asks for one. Every click signs in afresh with what was typed; the company's credentials and tokens are
    replaced only once the sign-in succeeded and the user could read the locations."""

    _name = "nexudus.qbo.signin"
    _description = "Nexudus sign-in"

    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    email = fields.Char("Nexudus admin email")
    password = fields.Char("Nexudus password", help="Left empty, the stored password of this email is used.")
    has_stored_password = fields.Boolean(readonly=True)
    totp = fields.Char("Two-factor code")
    step = fields.Selection(
        [("credentials", "Email and password"), ("totp", "Two-factor code")],
        default="credentials",
        required=True,
    )
    message = fields.Text(readonly=True, help="Why the last sign-in did not go through, or what it needs next.")

    @api.model
    def _open_for(self, company):
        """The dialog for ``company``, filled in with its stored email; the stored password stays where it is
        (encrypted), used when none is typed."""
        stored = company.sudo()
        wizard = self.create(
            {
                "company_id": company.id,
                "email": stored.nexudus_email,
                "has_stored_password": bool(stored.nexudus_email and stored.nexudus_password),
            }
        )
        return wizard._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Sign in to Nexudus"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _stay(self, message, step=None):
        """Keep the dialog open on the same record, saying ``message``."""
        self.write({"message": message, "step": step or self.step, "totp": False})
        return self._reopen()

    def action_sign_in(self):
        """Sign in with what was typed (one token request), read the locations, and only then keep the
        credentials and tokens."""
        self.ensure_one()
        email = (self.email or "").strip()
        company = self.company_id
        stored = company.sudo()
        password = self.password or (stored.nexudus_password if email == stored.nexudus_email else "")
        if not password:
            return self._stay(self.env._("Type the Nexudus password of %(email)s.", email=email))
        client = company._nexudus_new_client(email, password)
        try:
            tokens = client.sign_in(totp=(self.totp or "").strip() or None)
        except ApiError as exc:
            return self._refused(exc, email)
        try:
            businesses = list(client.list("businesses", order_by="Name"))
        except AuthError:
            return self._stay(
                self.env._(
                    "Nexudus accepted the sign-in of %(email)s but refuses it API access: turn on API access for "
                    "%(email)s in Nexudus › Settings › Users, then sign in again.",
                    email=email,
                )
            )
        except ApiError as exc:
            return self._stay(self.env._("The sign-in did not complete: %(error)s", error=translated(self.env, exc)))
        stored.write({"nexudus_email": email, "nexudus_password": password})
        self.write({"password": False, "totp": False})  # the company keeps it, encrypted
        company._nexudus_store_tokens(tokens)
        locations = company._nexudus_sync_locations(businesses)
        return notification(
            self.env._("Connected to Nexudus"),
            self.env._(
                "Signed in as %(email)s, who sees %(count)s location(s): %(names)s",
                email=email,
                count=len(locations),
                names=", ".join(locations.mapped("name")) or self.env._("none"),
            ),
        )

    def _refused(self, exc, email):
        """The dialog again, saying in plain words why Nexudus refused the token request ``exc``."""
        said = exc.detail or exc.message
        if exc.code == "two_factor_auth_check":
            return self._stay(
                self.env._("This Nexudus account signs in with a two-factor code: type the current code."),
                step="totp",
            )
        if exc.code == "invalid_grant" and self.step == "totp":
            return self._stay(
                self.env._(
                    "Nexudus did not accept the sign-in with this two-factor code. Nexudus says: “%(said)s” "
                    "Type the code your authenticator shows now.",
                    said=said,
                )
            )
        if exc.code == "invalid_grant":
            return self._stay(
                self.env._(
                    "Nexudus did not accept the email %(email)s with this password. Nexudus says: “%(said)s” "
                    "Check the email and the password, then sign in again.",
                    email=email,
                    said=said,
                )
            )
        return self._stay(self.env._("The sign-in did not complete: %(error)s", error=translated(self.env, exc)))
