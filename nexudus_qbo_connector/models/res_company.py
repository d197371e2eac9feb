import secrets
from datetime import datetime, timezone

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import hash_sign, hmac

from ..tools import nexudus_client, nexudus_links, qbo_client
from ..tools.errors import ApiError
from ..tools.matching import rate
from ..tools.qbo_objects import field, read
from ..tools.texts import translated
from ..tools.transferability import Chart, transfer_problems
from ..tools.webhooks import NEXUDUS_WEBHOOK_ACTIONS, NEXUDUS_WEBHOOK_PATH
from .encrypted_fields import check_readable, encrypt_at_rest, encrypted_char, unreadable

# System parameters that point the connector at other hosts than the real services (the tests and
# the demo use them to reach the simulators). Each one defaults to the live service.
ENDPOINT_PARAMS = {
    "nexudus_api_url": nexudus_client.DEFAULT_URL,
    "qbo_api_url": None,  # None: the sandbox or production API host, by the company's environment
    "intuit_authorize_url": qbo_client.AUTHORIZE_URL,
    "intuit_token_url": qbo_client.TOKEN_URL,
    "intuit_revoke_url": qbo_client.REVOKE_URL,
}
OAUTH_SCOPE = "nexudus_qbo_connector.oauth"
OAUTH_STATE_HOURS = 1  # how long a "Connect with QuickBooks" click stays valid
CALLBACK_PATH = "/nexudus_qbo/oauth/callback"
WEBHOOK_TOKEN_SCOPE = "nexudus_qbo_connector.nexudus_webhook"


class ResCompany(models.Model):
    _inherit = "res.company"

    # -- Nexudus sign-in (per company: each Odoo company serves its own Nexudus locations) ----------
    nexudus_email = fields.Char("Nexudus admin email", groups="base.group_system", copy=False)
    nexudus_password, nexudus_password_encrypted = encrypted_char(
        "nexudus_password", "Nexudus password", groups="base.group_system"
    )
    nexudus_location_ids = fields.Many2many(
        "nexudus.qbo.location",
        string="Nexudus locations served",
        domain="[('company_id', '=', id)]",
        help="The Nexudus locations whose invoices and payments this company transfers.",
    )
    nexudus_invoice_url_template = fields.Char(
        "Nexudus invoice address",
        help="The address of an invoice in your Nexudus admin panel, with {id} where the invoice's Nexudus ID "
        "goes: open any invoice at dashboard.nexudus.com and copy its address. Empty: Open in Nexudus opens "
        "the admin panel, where the invoice is found by its number under Finance › Invoices.",
    )

    # -- QuickBooks Online OAuth 2.0 ------------------------------------------------------------------
    qbo_environment = fields.Selection(
        [("sandbox", "Sandbox"), ("production", "Production")],
        default="sandbox",
        string="QuickBooks environment",
    )
    qbo_client_id = fields.Char("QuickBooks client ID", groups="base.group_system", copy=False)
    qbo_client_secret, qbo_client_secret_encrypted = encrypted_char(
        "qbo_client_secret", "QuickBooks client secret", groups="base.group_system"
    )
    qbo_oauth_nonce = fields.Char(groups="base.group_system", copy=False)
    qbo_realm_id = fields.Char("QuickBooks company ID", copy=False, readonly=True)
    qbo_company_name = fields.Char("QuickBooks company", copy=False, readonly=True)
    qbo_country = fields.Char("QuickBooks company country", copy=False, readonly=True)
    qbo_home_currency = fields.Char("QuickBooks home currency", copy=False, readonly=True)
    qbo_multicurrency = fields.Boolean("QuickBooks multicurrency", copy=False, readonly=True)
    qbo_state = fields.Selection(
        [("not_connected", "Not connected"), ("connected", "Connected"), ("needs_reconnect", "Needs reconnect")],
        string="QuickBooks connection",
        compute="_compute_qbo_state",
    )

    # -- Webhooks: the services tell Odoo at once when something changed ----------------------------------
    nexudus_webhook_secret, nexudus_webhook_secret_encrypted = encrypted_char(
        "nexudus_webhook_secret",
        "Nexudus webhook shared secret",
        groups="base.group_system",
        help="The shared secret of your Nexudus app. When set, a Nexudus delivery without its signature is refused.",
    )
    qbo_verifier_token, qbo_verifier_token_encrypted = encrypted_char(
        "qbo_verifier_token",
        "Intuit webhook verifier token",
        groups="base.group_system",
        help="The verifier token Intuit shows on your app's Webhooks page.",
    )

    # -- What moves, and how often (the options of Nexudus's own QuickBooks integration) ---------------
    nexudus_qbo_send_payments = fields.Boolean("Send payments recorded in Nexudus to QuickBooks")
    nexudus_qbo_reconcile_payments = fields.Boolean("Reconcile payments made in QuickBooks with Nexudus invoices")
    nexudus_qbo_payments_account_id = fields.Many2one(
        "nexudus.qbo.account",
        string="Payments account",
        domain="[('company_id', '=', id), ('is_deposit_account', '=', True)]",
        help="The QuickBooks Bank or Other Current Asset account payments are deposited to.",
    )
    nexudus_qbo_default_tax_code_id = fields.Many2one(
        "nexudus.qbo.tax.code",
        string="Default tax code",
        domain="[('company_id', '=', id)]",
        help="Used on invoice lines that carry no tax rate in Nexudus.",
    )
    nexudus_qbo_use_invoice_period = fields.Boolean("Use invoice period in Nexudus as the invoice date in QuickBooks")
    nexudus_qbo_auto_send_invoices = fields.Boolean("Automatically send invoices issued in Nexudus to QuickBooks")
    nexudus_qbo_create_payment_methods = fields.Boolean(
        "Create missing payment methods in QuickBooks",
        help="A Nexudus payment whose mapped QuickBooks payment method does not exist creates it there.",
    )
    nexudus_qbo_auto_pull_payments = fields.Boolean("Automatically send payments recorded in QuickBooks to Nexudus")
    nexudus_qbo_interval_minutes = fields.Integer(
        "Run every (minutes)",
        default=360,
        help="How often the scheduled action syncs this company; at least 5 minutes.",
    )
    nexudus_qbo_read_at = fields.Datetime(
        "Last read from the services", copy=False, readonly=True, help="When a worker last read what changed."
    )
    nexudus_qbo_swept_at = fields.Datetime(
        "Last swept", copy=False, readonly=True, help="When the daily sweep last read this company's recent changes."
    )
    nexudus_coworker_cursor = fields.Datetime(
        "Nexudus customers read up to", copy=False, help="The newest Nexudus UpdatedOn read for customers."
    )
    qbo_preferences_json = fields.Text(
        copy=False, groups="base.group_system", help="QuickBooks' preferences, as last read."
    )
    qbo_preferences_at = fields.Datetime(copy=False, groups="base.group_system")
    nexudus_qbo_checked_at = fields.Datetime(
        "Pre-flight checks passed at", copy=False, help="When the pre-flight checks last found nothing blocking."
    )
    qbo_payment_cursor = fields.Datetime(
        "QuickBooks payments read up to", copy=False, help="Payments changed in QuickBooks after this are read next."
    )

    _nexudus_qbo_interval_minimum = models.Constraint(
        "CHECK (nexudus_qbo_interval_minutes >= 5)",
        "The connector cannot run more often than every 5 minutes: set the run interval to 5 minutes or more.",
    )

    @api.constrains("nexudus_invoice_url_template")
    def _check_nexudus_invoice_url_template(self):
        for company in self:
            if not nexudus_links.is_valid_template(company.nexudus_invoice_url_template):
                raise ValidationError(
                    self.env._(
                        "The Nexudus invoice address must start with https:// and hold {id} where the invoice's "
                        "Nexudus ID goes, for example %(example)s.",
                        example=nexudus_links.EXAMPLE,
                    )
                )

    def write(self, vals):
        signed_in = {}  # the Nexudus sign-in of each company before the write, when the write may change it
        if "nexudus_email" in vals or "nexudus_password" in vals:
            signed_in = {company: (company.nexudus_email, company.nexudus_password) for company in self.sudo()}
        result = super().write(vals)
        for company, credentials in signed_in.items():
            if (company.nexudus_email, company.nexudus_password) != credentials:
                self.env["nexudus.qbo.token"]._drop(company, "nexudus")  # they belong to the previous sign-in
        if "nexudus_qbo_interval_minutes" in vals or "nexudus_location_ids" in vals:
            self.env["nexudus.qbo.scheduler"]._plan()
        return result

    def init(self):
        encrypt_at_rest(self)
        return super().init()

    def _compute_qbo_state(self):
        tokens = self.env["nexudus.qbo.token"].sudo().search([("company_id", "in", self.ids), ("service", "=", "qbo")])
        by_company = {token.company_id.id: token for token in tokens}
        for company in self:
            token = by_company.get(company.id)
            if token and unreadable(token, "refresh_token"):  # encrypted with a key no longer configured
                company.qbo_state = "needs_reconnect"
            elif not token or (token.state == "connected" and not token.refresh_token):
                company.qbo_state = "not_connected"
            else:
                company.qbo_state = token.state

    def _nexudus_qbo_endpoint(self, key):
        """The URL of one external endpoint: the system parameter if set, else the real service."""
        self.ensure_one()
        value = self.env["ir.config_parameter"].sudo().get_param(f"nexudus_qbo_connector.{key}")
        if value:
            return value.rstrip("/")
        if key == "qbo_api_url":
            return qbo_client.API_URLS[self.qbo_environment or "sandbox"]
        return ENDPOINT_PARAMS[key]

    # -- Nexudus ---------------------------------------------------------------------------------
    def _nexudus_client(self):
        """A Nexudus client signed in as this company's admin user; new tokens are stored at once."""
        self.ensure_one()
        company = self.sudo()
        if not company.nexudus_email:
            raise UserError(
                self.env._("Enter the Nexudus admin email and password in Settings › Nexudus–QuickBooks first.")
            )
        check_readable(company, "nexudus_password")
        token = self.env["nexudus.qbo.token"]._get(self, "nexudus")
        expires = token.access_expires_at
        return self._nexudus_new_client(
            company.nexudus_email,
            company.nexudus_password,
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=expires.replace(tzinfo=timezone.utc).timestamp() if expires else None,
            on_tokens=self._nexudus_store_tokens,
        )

    def _nexudus_new_client(self, email, password, **tokens):
        """A Nexudus client for ``email``; without ``tokens`` it has none and its first call signs in."""
        return nexudus_client.NexudusClient(
            self._nexudus_qbo_endpoint("nexudus_api_url"),
            email=email,
            password=password,
            limiter=self.env["nexudus.qbo.rate.budget"]._limiter("nexudus", email.strip().lower()),
            **tokens,
        )

    def _nexudus_store_tokens(self, tokens):
        """Nexudus invalidates the previous refresh token as soon as it issues a new one: store it now."""
        self.env["nexudus.qbo.token"]._store(
            self,
            "nexudus",
            {
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
                "access_expires_at": _utc(tokens["expires_at"]),
            },
        )

    def _nexudus_locations(self):
        """Read the Nexudus locations (businesses) the stored credentials can see into Odoo records."""
        try:
            businesses = list(self._nexudus_client().list("businesses", order_by="Name"))
        except ApiError as exc:
            raise UserError(translated(self.env, exc)) from exc
        return self._nexudus_sync_locations(businesses)

    def _nexudus_sync_locations(self, businesses):
        """Record the Nexudus ``businesses`` read as this company's locations; return them."""
        locations = self.env["nexudus.qbo.location"].sudo()._sync_from_nexudus(self, businesses)
        if not self.nexudus_location_ids:  # a first connection serves every location until told otherwise
            self.nexudus_location_ids = locations
        return locations

    # -- QuickBooks Online -------------------------------------------------------------------------
    def _qbo_oauth(self):
        self.ensure_one()
        company = self.sudo()
        check_readable(company, "qbo_client_secret")
        if not (company.qbo_client_id and company.qbo_client_secret):
            raise UserError(
                self.env._(
                    "Enter the QuickBooks client ID and secret of your Intuit app in Settings › Nexudus ↔ QuickBooks "
                    "Online first."
                )
            )
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        return qbo_client.QboOAuth(
            company.qbo_client_id,
            company.qbo_client_secret,
            base_url.rstrip("/") + CALLBACK_PATH,
            authorize_url=self._nexudus_qbo_endpoint("intuit_authorize_url"),
            token_url=self._nexudus_qbo_endpoint("intuit_token_url"),
            revoke_url=self._nexudus_qbo_endpoint("intuit_revoke_url"),
        )

    def _qbo_authorization_url(self):
        """Intuit's consent page for this company, with a signed state that expires and works once."""
        self.ensure_one()
        oauth = self._qbo_oauth()
        nonce = secrets.token_urlsafe(16)
        self.sudo().qbo_oauth_nonce = nonce
        state = hash_sign(
            self.env(su=True),
            OAUTH_SCOPE,
            {"company_id": self.id, "user_id": self.env.uid, "nonce": nonce},
            expiration_hours=OAUTH_STATE_HOURS,
        )
        return oauth.authorization_url(state)

    def _qbo_finish_connect(self, code, realm_id):
        """Exchange the authorisation code of the callback and record the QuickBooks company."""
        self.ensure_one()
        oauth = self._qbo_oauth()
        try:
            tokens = oauth.exchange_code(code)
        except ApiError as exc:
            raise UserError(translated(self.env, exc)) from exc
        self.env["nexudus.qbo.token"]._store(self, "qbo", self.env["nexudus.qbo.token"]._token_values(tokens))
        self.sudo().write({"qbo_realm_id": realm_id, "qbo_oauth_nonce": False})
        try:
            info = read("CompanyInfo", self._qbo_client().company_info())
        except ApiError as exc:
            raise UserError(translated(self.env, exc)) from exc
        self.sudo().write({"qbo_company_name": field(info, "CompanyName"), "qbo_country": field(info, "Country")})

    def _qbo_disconnect(self):
        """Revoke the tokens at Intuit and forget them here."""
        self.ensure_one()
        token = self.env["nexudus.qbo.token"]._get(self, "qbo")
        if token.refresh_token:
            try:
                self._qbo_oauth().revoke(token.refresh_token)
            except ApiError as exc:
                raise UserError(
                    self.env._(
                        "QuickBooks did not confirm the disconnection: %(error)s", error=translated(self.env, exc)
                    )
                ) from exc
        token.unlink()
        self.sudo().write({"qbo_realm_id": False, "qbo_company_name": False, "qbo_country": False})

    def _qbo_client(self):
        """A QuickBooks API client for this company with a fresh access token."""
        self.ensure_one()
        if not self.sudo().qbo_realm_id:
            raise UserError(self.env._("Connect with QuickBooks in Settings › Nexudus ↔ QuickBooks Online first."))
        tokens = self.env["nexudus.qbo.token"]
        oauth = self._qbo_oauth()
        client = qbo_client.QboClient(
            self._nexudus_qbo_endpoint("qbo_api_url"),
            self.sudo().qbo_realm_id,
            access_token=tokens._qbo_access_token(self, oauth),
            limiter=self.env["nexudus.qbo.rate.budget"]._limiter("qbo", self.sudo().qbo_realm_id),
        )
        client.on_unauthorized = lambda: tokens._qbo_access_token(self, oauth, stale=client.access_token)
        return client

    def _qbo_preferences(self, client):
        """QuickBooks' preferences (a python-quickbooks ``Preferences``), read once per scheduled run (each click
        reads them afresh)."""
        return read(
            "Preferences", self.env["nexudus.qbo.run"]._in_run()._cached(self, "preferences", client.preferences)
        )

    def _nexudus_qbo_assert_ready(self):
        """The pre-flight checks, once per scheduled run (each click checks afresh)."""
        self.env["nexudus.qbo.run"]._in_run()._cached(
            self, "ready", lambda: bool(self.env["nexudus.qbo.preflight"]._assert_ready(self))
        )

    def _qbo_refresh_lists(self):
        """Read QuickBooks accounts, tax codes, items and active customers (every page) and the currency
        preferences."""
        self.ensure_one()
        client = self._qbo_client()
        try:
            accounts = client.query_documents("Account", "Active IN (true, false)")
            codes = client.query_documents("TaxCode", "Active IN (true, false)")
            rates = {
                r.Id: field(r, "RateValue", default=0)
                for r in client.query_documents("TaxRate", "Active IN (true, false)")
            }
            items = client.query_documents("Item", "Active IN (true, false)")
            customers = client.query_documents("Customer", "Active = true")
            preferences = client.preferences_document()
        except ApiError as exc:
            raise UserError(translated(self.env, exc)) from exc
        self.sudo().write(
            {
                "qbo_home_currency": field(preferences, "CurrencyPrefs", "HomeCurrency", "value") or False,
                "qbo_multicurrency": bool(field(preferences, "CurrencyPrefs", "MultiCurrencyEnabled")),
            }
        )
        self._nexudus_qbo_upsert("nexudus.qbo.account", accounts, lambda model, row: model._values_from_qbo(row))
        self._nexudus_qbo_upsert("nexudus.qbo.tax.code", codes, lambda model, row: model._values_from_qbo(row, rates))
        account_ids = {
            a.qbo_id: a.id
            for a in self.env["nexudus.qbo.account"]
            .with_context(active_test=False)
            .search([("company_id", "=", self.id)])
        }
        self._nexudus_qbo_upsert("nexudus.qbo.item", items, lambda model, row: model._values_from_qbo(row, account_ids))
        self._nexudus_qbo_upsert("nexudus.qbo.customer", customers, lambda model, row: model._values_from_qbo(row))

    def _nexudus_qbo_store_item(self, row):
        """Record one QuickBooks item (just created or adopted) and return its Odoo record."""
        accounts = {a.qbo_id: a.id for a in self.env["nexudus.qbo.account"].search([("company_id", "=", self.id)])}
        return self._nexudus_qbo_store_row(
            "nexudus.qbo.item", row, lambda model, r: model._values_from_qbo(r, accounts)
        )

    def _nexudus_qbo_store_customer(self, row):
        """Record one QuickBooks customer (just created or adopted) and return its Odoo record."""
        return self._nexudus_qbo_store_row("nexudus.qbo.customer", row, lambda model, r: model._values_from_qbo(r))

    def _nexudus_qbo_store_row(self, model_name, row, values_of):
        """Record one row the connector just created or adopted in QuickBooks, so that the list read holds
        it without waiting for the next refresh; return its Odoo record."""
        self._nexudus_qbo_upsert(model_name, [row], values_of, archive_missing=False)
        return self.env[model_name].search([("company_id", "=", self.id), ("qbo_id", "=", field(row, "Id"))])

    def _nexudus_refresh_lists(self):
        """Read the financial accounts and tax rates of every served Nexudus location."""
        self.ensure_one()
        client = self._nexudus_client()
        for location in self.nexudus_location_ids:
            try:
                accounts = list(client.list("financialaccounts", {"FinancialAccount_Business": location.nexudus_id}))
                taxes = list(client.list("taxrates", {"TaxRate_Business": location.nexudus_id}))
            except ApiError as exc:
                raise UserError(translated(self.env, exc)) from exc
            for model_name, rows in (("nexudus.qbo.financial.account", accounts), ("nexudus.qbo.tax.rate", taxes)):
                model = self.env[model_name].sudo().with_context(active_test=False)
                existing = {rec.nexudus_id: rec for rec in model.search([("location_id", "=", location.id)])}
                for row in rows:
                    record = existing.pop(row["Id"], None)
                    values = model._values_from_nexudus(row)
                    if record:
                        record.write(values)
                    else:
                        model.create({**values, "location_id": location.id, "nexudus_id": row["Id"]})
                model.browse([rec.id for rec in existing.values()]).write({"active": False})

    def _nexudus_qbo_refresh_chart(self):
        """ "Refresh lists": read both charts, add a mapping row for every Nexudus account and tax rate of
        the served locations, and match the rows nobody set by hand. Managers only: it rewrites mappings."""
        self.ensure_one()
        self.env["nexudus.qbo.account.map"].check_access("write")
        if not self.nexudus_location_ids:
            raise UserError(
                self.env._(
                    "No Nexudus location is served yet: click Test connection in Settings › Nexudus ↔ QuickBooks "
                    "Online and pick the locations."
                )
            )
        self._nexudus_refresh_lists()
        self._qbo_refresh_lists()
        account_maps = self.env["nexudus.qbo.account.map"].sudo()
        tax_maps = self.env["nexudus.qbo.tax.map"].sudo()
        for location in self.nexudus_location_ids:
            known = {m.nexudus_code: m for m in account_maps.search([("location_id", "=", location.id)])}
            for account in self.env["nexudus.qbo.financial.account"].search([("location_id", "=", location.id)]):
                row = known.get(account.code) or account_maps.create(
                    {
                        "company_id": self.id,
                        "location_id": location.id,
                        "nexudus_code": account.code,
                    }
                )
                row.with_context(nexudus_qbo_auto_match=True).write(
                    {"nexudus_name": account.name, "nexudus_type": account.account_type}
                )
            known_taxes = {
                (m.nexudus_name, rate(m.nexudus_rate)) for m in tax_maps.search([("location_id", "=", location.id)])
            }
            for tax in self.env["nexudus.qbo.tax.rate"].search([("location_id", "=", location.id)]):
                if (tax.name, rate(tax.rate)) not in known_taxes:
                    tax_maps.create(
                        {
                            "company_id": self.id,
                            "location_id": location.id,
                            "nexudus_name": tax.name,
                            "nexudus_rate": tax.rate,
                        }
                    )
        account_maps.search([("company_id", "=", self.id)])._auto_match(
            self._nexudus_qbo_accounts_as_rows(), self._nexudus_qbo_items()
        )
        tax_maps.search([("company_id", "=", self.id)])._auto_match(
            self.env["nexudus.qbo.tax.code"].search([("company_id", "=", self.id)])
        )
        self.env["nexudus.qbo.invoice"]._reevaluate_waiting(self)

    def _nexudus_qbo_accounts_as_rows(self):
        """The active QuickBooks accounts as the matching rules take them."""
        accounts = self.env["nexudus.qbo.account"].search([("company_id", "=", self.id)])
        return [{"Id": a.qbo_id, "Name": a.name, "AcctNum": a.acct_num or ""} for a in accounts]

    def _nexudus_qbo_items(self):
        return self.env["nexudus.qbo.item"].search([("company_id", "=", self.id)])

    def _nexudus_qbo_chart(self):
        """The mappings as the transferability check reads them."""
        self.ensure_one()
        accounts = {
            (m.location_id.nexudus_id, m.nexudus_code): {
                "ready": m.ready,
                "has_account": bool(m.qbo_account_id),
                "reason": m.match_reason or "",
            }
            for m in self.env["nexudus.qbo.account.map"].search([("company_id", "=", self.id)])
        }
        taxes = {
            (m.location_id.nexudus_id, m.nexudus_name, rate(m.nexudus_rate)): {
                "ready": m.ready,
                "reason": m.match_reason or "",
            }
            for m in self.env["nexudus.qbo.tax.map"].search([("company_id", "=", self.id)])
        }
        return Chart(
            served_locations={loc.nexudus_id: loc.name for loc in self.nexudus_location_ids},
            accounts=accounts,
            taxes=taxes,
            has_default_tax_code=bool(self.nexudus_qbo_default_tax_code_id),
            home_currency=self.qbo_home_currency or "",
            multicurrency=self.qbo_multicurrency,
        )

    def _nexudus_qbo_transfer_problems(self, invoice, lines, coworker=None, chart=None):
        """Why the Nexudus ``invoice`` (with its ``lines``) cannot be transferred; empty when it can.
        ``chart``: the mappings as ``_nexudus_qbo_chart`` reads them, when the caller read them already."""
        return transfer_problems(invoice, lines, chart or self._nexudus_qbo_chart(), coworker)

    def _nexudus_qbo_upsert(self, model_name, rows, values_of, archive_missing=True):
        model = self.env[model_name].sudo().with_context(active_test=False)
        existing = {rec.qbo_id: rec for rec in model.search([("company_id", "=", self.id)])}
        for row in rows:
            values = values_of(model, row)
            record = existing.pop(field(row, "Id"), None)
            if record:
                record.write(values)
            else:
                model.create({**values, "company_id": self.id, "qbo_id": field(row, "Id")})
        if archive_missing:  # deleted in QuickBooks since the last refresh
            model.browse([rec.id for rec in existing.values()]).write({"active": False})

    # -- Webhooks ----------------------------------------------------------------------------------------
    def _nexudus_webhook_token(self):
        """The secret token in this company's Nexudus webhook URL: an HMAC of the company keyed with the
        database's secret, so nothing is stored that a failed registration could roll back."""
        self.ensure_one()
        return hmac(self.env(su=True), WEBHOOK_TOKEN_SCOPE, self.id)

    def _nexudus_webhook_url(self):
        """The URL Nexudus posts this company's webhooks to."""
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        return f"{base_url}{NEXUDUS_WEBHOOK_PATH}/{self.id}/{self._nexudus_webhook_token()}"

    def _nexudus_qbo_trigger_sync(self):
        """A webhook's only effect: the scheduled sync runs as soon as a cron worker is free."""
        self.env.ref("nexudus_qbo_connector.ir_cron_nexudus_qbo_sync").sudo()._trigger()

    def _nexudus_register_webhooks(self):
        """Create, in every location served, the Nexudus webhooks missing for this Odoo, and switch back on
        those Nexudus disabled; return how many. Nexudus is read first, so a second click changes nothing."""
        self.ensure_one()
        if not self.nexudus_location_ids:
            raise UserError(self.env._("Choose the Nexudus locations served first (Settings › Nexudus)."))
        url = self._nexudus_webhook_url()
        try:
            client = self._nexudus_client()
            actions = client.enum("eWebhookAction")
            missing = [name for name in NEXUDUS_WEBHOOK_ACTIONS if name not in actions]
            if missing:
                raise UserError(
                    self.env._(
                        "Nexudus does not offer the webhook actions %(actions)s. Nothing was registered; "
                        "contact Nexudus support.",
                        actions=", ".join(missing),
                    )
                )
            existing = {
                (hook.get("BusinessId"), hook.get("Action")): hook
                for hook in client.list("webhooks")
                if hook.get("URL") == url
            }
            created = 0
            for location in self.nexudus_location_ids:
                for name in NEXUDUS_WEBHOOK_ACTIONS:
                    hook = existing.get((location.nexudus_id, actions[name]))
                    if hook is None:
                        client.add("webhooks", _webhook(location, name, actions[name], url))
                        created += 1
                    elif not hook.get("Active"):  # Nexudus disables a webhook after repeated failures
                        client.update("webhooks", {**client.get("webhooks", hook["Id"]), "Active": True})
                        created += 1
        except ApiError as exc:
            raise UserError(
                self.env._(
                    "The Nexudus webhooks could not be registered (%(error)s). The webhooks already created are "
                    "kept; click the button again once this is solved.",
                    error=translated(self.env, exc),
                )
            ) from exc
        return created


def _webhook(location, name, action_id, url):
    """A Nexudus WebHook record (research Nexudus §4: one location, one action)."""
    return {
        "BusinessId": location.nexudus_id,
        "Name": f"Odoo QuickBooks connector: {name}",
        "Action": action_id,
        "Description": "Tells Odoo to transfer invoices and payments to QuickBooks now.",
        "URL": url,
        "Active": True,
    }


def _utc(timestamp):
    return datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)
