from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.errors import ApiError, ThrottledError
from ..tools.qbo_objects import field
from ..tools.texts import translated

QBO_ADVANCED = "In QuickBooks: ⚙ › Account and settings › Advanced › Automation"


class NexudusQboPreflight(models.TransientModel):
    """The pre-flight checklist: everything that must hold before invoices and payments move."""

    _name = "nexudus.qbo.preflight"
    _description = "Nexudus–QuickBooks pre-flight checks"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    line_ids = fields.One2many("nexudus.qbo.preflight.line", "preflight_id", readonly=True)
    ready = fields.Boolean(compute="_compute_ready")
    warnings = fields.Boolean(compute="_compute_ready")

    @api.depends("line_ids.status")
    def _compute_ready(self):
        for preflight in self:
            statuses = preflight.line_ids.mapped("status")
            preflight.ready = "error" not in statuses
            preflight.warnings = "warning" in statuses

    @api.model
    def _run(self, company, pause=False):
        """Run every check for ``company`` and return the checklist record. With ``pause``, QuickBooks being
        busy or down is raised as it is (the transfer pauses) rather than listed as a warning."""
        checks = self._checks(company, pause)
        return self.create(
            {
                "company_id": company.id,
                "line_ids": [fields.Command.create({**check, "sequence": index}) for index, check in enumerate(checks)],
            }
        )

    @api.model
    def _assert_ready(self, company):
        """Raise with every blocking problem and its fix; the transfers call this before each run."""
        preflight = self._run(company, pause=True)
        errors = preflight.line_ids.filtered(lambda line: line.status == "error")
        if errors:
            raise UserError("\n".join(f"• {line.name}: {line.message} {line.fix or ''}".strip() for line in errors))
        return preflight

    @api.model
    def _checks(self, company, pause=False):
        checks = [self._nexudus_check(company), self._mapping_check(company)]
        if company.qbo_state != "connected":
            checks.append(
                _line(
                    self.env._("QuickBooks connection"),
                    "error",
                    self.env._("QuickBooks Online is not connected."),
                    self.env._("Settings › Nexudus ↔ QuickBooks Online › Connect with QuickBooks."),
                )
            )
            return checks
        try:
            client = company._qbo_client()
            prefs = company._qbo_preferences(client)
            home_currency = field(prefs, "CurrencyPrefs", "HomeCurrency", "value")
            checks += self._qbo_preference_checks(company, prefs, home_currency)
            checks += self._qbo_list_checks(company, client)
        except (ApiError, UserError) as exc:
            if isinstance(exc, ApiError) and exc.retryable:
                if pause:
                    raise
                checks.append(self._busy_line(self.env._("QuickBooks connection"), exc))
                return checks
            checks.append(
                _line(
                    self.env._("QuickBooks connection"),
                    "error",
                    translated(self.env, exc),
                    self.env._("Check the connection in Settings, then run the checks again."),
                )
            )
        return checks

    def _busy_line(self, name, exc):
        """A service busy or down just now: a passing state, not a configuration problem (a scheduled run
        pauses on it instead, ``_run`` with ``pause``)."""
        if isinstance(exc, ThrottledError):
            text = self.env._(
                "%(service)s is busy now (its request limit): try again in a minute — nothing is wrong with the setup.",
                service=exc.service,
            )
        else:
            text = self.env._(
                "%(service)s does not answer now (%(error)s): try again in a few minutes — nothing is wrong with the "
                "setup.",
                service=exc.service,
                error=translated(self.env, exc.message),
            )
        return _line(name, "warning", text)

    def _nexudus_check(self, company):
        try:
            client = company._nexudus_client()
            next(iter(client.list("businesses", size=1)), None)
        except (ApiError, UserError) as exc:
            if isinstance(exc, ApiError) and exc.retryable:  # busy or down now, not a credentials problem
                return self._busy_line(self.env._("Nexudus API access"), exc)
            return _line(
                self.env._("Nexudus API access"),
                "error",
                translated(self.env, exc),
                self.env._("Enter working credentials of a Nexudus user with API access, then Test connection."),
            )
        if not company.nexudus_location_ids:
            return _line(
                self.env._("Nexudus locations"),
                "warning",
                self.env._("No Nexudus location is selected for this company."),
                self.env._("Click Test connection, then pick the locations this company serves."),
            )
        return _line(
            self.env._("Nexudus API access"),
            "ok",
            self.env._("Signed in; %(count)s location(s) served.", count=len(company.nexudus_location_ids)),
        )

    def _mapping_check(self, company):
        """Mappings not complete, and the invoices that wait for them: they do not stop the others."""
        name = self.env._("Mappings")
        domain = [("company_id", "=", company.id), ("ready", "=", False)]
        accounts = self.env["nexudus.qbo.account.map"].search_count(domain)
        taxes = self.env["nexudus.qbo.tax.map"].search_count(domain)
        invoices = self.env["nexudus.qbo.invoice"]
        total = invoices.search_count([("company_id", "=", company.id)])
        waiting = invoices.search_count([("company_id", "=", company.id), ("waiting_for_mappings", "=", True)])
        if not (accounts or taxes or waiting):
            return _line(name, "ok", self.env._("Every account and tax mapping is complete."))
        return _line(
            name,
            "warning",
            self.env._(
                "%(accounts)s account mappings and %(taxes)s tax mappings unmatched; %(waiting)s of %(total)s "
                "invoices wait for them.",
                accounts=accounts,
                taxes=taxes,
                waiting=waiting,
                total=total,
            ),
            self.env._(
                "Map them in Nexudus–QuickBooks › Mappings › Account mappings and Tax mappings (filter “Needs "
                "attention”); the invoices waiting become To send as soon as a mapping is saved, and each "
                "invoice's reason names the mapping it needs."
            ),
        )

    def _qbo_preference_checks(self, company, prefs, home_currency):
        checks = []
        for key, label in (
            ("AutoApplyCredit", self.env._("Automatically apply credits")),
            ("AutoApplyPayments", self.env._("Automatically apply payments")),
        ):
            if field(prefs, "SalesFormsPrefs", key):
                checks.append(
                    _line(
                        label,
                        "error",
                        self.env._(
                            "QuickBooks applies new credits and payments to the oldest open invoices by itself, which "
                            "would put Nexudus payments and credit notes on the wrong invoices."
                        ),
                        self.env._("%(where)s: untick “%(label)s” and save.", where=QBO_ADVANCED, label=label),
                    )
                )
            else:
                checks.append(_line(label, "ok", self.env._("Off, as required.")))
        if field(prefs, "SalesFormsPrefs", "CustomTxnNumbers"):
            checks.append(
                _line(
                    self.env._("Custom transaction numbers"),
                    "ok",
                    self.env._(
                        "On: QuickBooks invoices carry the Nexudus invoice numbers (shortened past 21 characters)."
                    ),
                )
            )
        else:
            checks.append(
                _line(
                    self.env._("Custom transaction numbers"),
                    "warning",
                    self.env._(
                        "Off: QuickBooks numbers the invoices itself; the Nexudus number is kept in the memo only."
                    ),
                    self.env._(
                        "In QuickBooks: ⚙ › Account and settings › Sales › Sales form content: turn on Custom "
                        "transaction numbers to keep Nexudus numbers."
                    ),
                )
            )
        foreign = sorted(
            {
                loc.currency_code
                for loc in company.nexudus_location_ids
                if loc.currency_code and loc.currency_code != home_currency
            }
        )
        if foreign and not field(prefs, "CurrencyPrefs", "MultiCurrencyEnabled"):
            checks.append(
                _line(
                    self.env._("Currencies"),
                    "error",
                    self.env._(
                        "Locations bill in %(currencies)s but QuickBooks (home currency %(home)s) "
                        "has multicurrency off.",
                        currencies=", ".join(foreign),
                        home=home_currency,
                    ),
                    self.env._(
                        "In QuickBooks: ⚙ › Account and settings › Advanced › Currency: turn on Multicurrency, or stop "
                        "serving those locations from this company."
                    ),
                )
            )
        else:
            checks.append(
                _line(
                    self.env._("Currencies"),
                    "ok",
                    self.env._(
                        "Home currency %(home)s%(more)s.",
                        home=home_currency,
                        more=f"; also {', '.join(foreign)}" if foreign else "",
                    ),
                )
            )
        us = company.qbo_country == "US"
        checks.append(
            _line(
                self.env._("Tax model"),
                "ok",
                self.env._("US company: lines are taxable or not, the rate comes from the tax code of the invoice.")
                if us
                else self.env._(
                    "Non-US company (%(country)s): every line carries its VAT/GST tax code.",
                    country=company.qbo_country,
                ),
            )
        )
        return checks

    def _qbo_list_checks(self, company, client):
        checks = []
        for record, label, entity in (
            (company.nexudus_qbo_payments_account_id, self.env._("Payments account"), "Account"),
            (company.nexudus_qbo_default_tax_code_id, self.env._("Default tax code"), "TaxCode"),
        ):
            if not record:
                checks.append(
                    _line(
                        label,
                        "warning",
                        self.env._("Not chosen yet."),
                        self.env._("Refresh the QuickBooks lists in Settings and choose one."),
                    )
                )
                continue
            rows = client.query_documents(entity, f"Id = '{record.qbo_id}' AND Active IN (true, false)")
            if not rows or not field(rows[0], "Active", default=True):
                checks.append(
                    _line(
                        label,
                        "error",
                        self.env._(
                            "“%(name)s” no longer exists or is inactive in QuickBooks.", name=record.display_name
                        ),
                        self.env._("Refresh the QuickBooks lists in Settings and choose another."),
                    )
                )
            else:
                checks.append(
                    _line(label, "ok", self.env._("“%(name)s” exists and is active.", name=record.display_name))
                )
        return checks


def _line(name, status, message, fix=""):
    return {"name": name, "status": status, "message": message, "fix": fix}
