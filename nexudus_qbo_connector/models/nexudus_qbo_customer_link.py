import hashlib

from odoo import fields, models
from odoo.exceptions import UserError

from ..tools import matching
from ..tools.errors import ApiError, RejectedError
from ..tools.qbo_client import quote

DUPLICATE_NAME = "6240"
LINK_LOCK_NAMESPACE = 0x4E52  # pg advisory lock class for "one worker links this Nexudus customer"


class NexudusQboCustomerLink(models.Model):
    """Which QuickBooks customer stands for one Nexudus customer, made on first use and kept.

    Nexudus's rule: the QuickBooks customer is the one named like the Nexudus billing name, or the full
    name when the billing name is blank. An existing QuickBooks customer of that name is adopted. QuickBooks
    names are unique across customers, vendors and employees, so when a vendor or employee holds the name
    the customer gets "<name> (Nexudus <id>)", the same on every run.
    """

    _name = "nexudus.qbo.customer.link"
    _description = "Nexudus–QuickBooks customer link"
    _order = "qbo_display_name"
    _rec_name = "qbo_display_name"

    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    nexudus_coworker_id = fields.Integer("Nexudus customer ID", required=True)
    nexudus_full_name = fields.Char("Nexudus full name")
    nexudus_billing_name = fields.Char("Nexudus billing name")
    qbo_customer_id = fields.Char("QuickBooks customer ID", required=True)
    qbo_display_name = fields.Char("QuickBooks name")
    link_kind = fields.Selection(
        [("adopted", "Existing customer adopted"), ("created", "Created by the connector"), ("manual", "Set by hand")],
        string="How",
        required=True,
        default="manual",
    )

    _company_coworker_uniq = models.UniqueIndex(
        "(company_id, nexudus_coworker_id)",
        "This Nexudus customer is already linked.",
    )

    def _resolve_for_invoice(self, company, context, invoice):
        """The link for the customer of a Nexudus ``invoice`` dict, reading the customer from Nexudus only
        when no link exists yet. With multicurrency on, the customer is in the invoice's currency."""
        domain = [("company_id", "=", company.id), ("nexudus_coworker_id", "=", invoice.get("CoworkerId"))]
        link = self.search(domain, limit=1)
        if link:
            return link
        # Two workers sending two invoices of one new customer: the second waits for the first to link
        # it, then reads its link in a fresh transaction instead of creating the customer again.
        cr = self.env.cr
        cr.execute("SELECT pg_advisory_lock(%s, %s)", (LINK_LOCK_NAMESPACE, invoice["CoworkerId"]))
        try:
            self.env["ir.cron"]._commit_progress()
            link = self.search(domain, limit=1)
            if link:
                return link
            coworker = self._coworker(company, context, invoice["CoworkerId"])
            currency = invoice.get("CurrencyCode") if context.multicurrency else None
            link = self._resolve(company, context.client, coworker, currency)
            self.env["ir.cron"]._commit_progress()
            return link
        finally:
            cr.execute("SELECT pg_advisory_unlock(%s, %s)", (LINK_LOCK_NAMESPACE, invoice["CoworkerId"]))

    def _coworker(self, company, context, coworker_id):
        """The Nexudus customer as read in bulk with the invoices, else read on its own."""
        mirrored = self.env["nexudus.qbo.coworker"].search(
            [("company_id", "=", company.id), ("nexudus_id", "=", coworker_id)], limit=1
        )
        if mirrored:
            return mirrored._record()
        try:
            coworker = context.nexudus().get("coworkers", coworker_id)
        except ApiError as exc:
            if exc.retryable:
                raise  # throttled or down: the invoice waits for the next run
            raise UserError(
                self.env._("Reading Nexudus customer %(id)s failed: %(error)s", id=coworker_id, error=exc)
            ) from exc
        self.env["nexudus.qbo.coworker"]._upsert(company, [coworker])
        return coworker

    def _resolve(self, company, client, coworker, currency=None):
        """The link for the Nexudus ``coworker`` dict, adopting or creating the QuickBooks customer."""
        link = self.search([("company_id", "=", company.id), ("nexudus_coworker_id", "=", coworker["Id"])], limit=1)
        if link:
            return link
        name = matching.customer_name(coworker.get("BillingName"), coworker.get("FullName"))
        if not name:
            raise UserError(
                self.env._(
                    "Nexudus customer %(id)s has neither a billing name nor a full name: give it one in Nexudus.",
                    id=coworker["Id"],
                )
            )
        try:
            row, kind = self._find_or_create(company, client, coworker, name, currency)
        except ApiError as exc:
            if exc.retryable:
                raise  # throttled or down: the invoice waits for the next run
            raise UserError(
                self.env._(
                    "QuickBooks refused the customer “%(name)s” (Nexudus customer %(id)s): %(error)s",
                    name=name,
                    id=coworker["Id"],
                    error=exc,
                )
            ) from exc
        return self.create(
            {
                "company_id": company.id,
                "nexudus_coworker_id": coworker["Id"],
                "nexudus_full_name": coworker.get("FullName"),
                "nexudus_billing_name": coworker.get("BillingName"),
                "qbo_customer_id": row["Id"],
                "qbo_display_name": row.get("DisplayName"),
                "link_kind": kind,
            }
        )

    def _find_or_create(self, company, client, coworker, name, currency):
        existing = self._customer_named(client, name)
        if existing and currency and (existing.get("CurrencyRef") or {}).get("value", currency) != currency:
            # A QuickBooks customer has one currency for good: one in this currency gets its own name.
            name = f"{name} ({currency})"
            existing = self._customer_named(client, name)
        if existing:
            return self._reactivated(client, existing), "adopted"
        try:
            return self._create_customer(company, client, coworker, name, currency), "created"
        except RejectedError as exc:
            if exc.code != DUPLICATE_NAME:
                raise
        # A vendor or an employee holds the name: take the disambiguated one (adopting it if an earlier
        # run created it and its link was lost).
        unique = matching.disambiguated_name(name, coworker["Id"])
        existing = self._customer_named(client, unique)
        if existing:
            return self._reactivated(client, existing), "created"
        return self._create_customer(company, client, coworker, unique, currency), "created"

    def _customer_named(self, client, name):
        """The QuickBooks customer with exactly this name, active or not (QuickBooks compares names loosely)."""
        rows = client.query_all("Customer", f"DisplayName = {quote(name)} AND Active IN (true, false)")
        exact = [row for row in rows if row.get("DisplayName") == name]
        return (exact or rows or [None])[0]

    def _reactivated(self, client, row):
        if row.get("Active", True):
            return row
        body = {"Id": row["Id"], "SyncToken": row["SyncToken"], "sparse": True, "Active": True}
        return client.call("POST", "customer", json=body)["Customer"]

    def _create_customer(self, company, client, coworker, name, currency):
        body = {"DisplayName": name}
        company_name = matching.clean_name(coworker.get("CompanyName"))
        if company_name:
            body["CompanyName"] = company_name
        email = coworker.get("BillingEmail") or coworker.get("Email")
        if email and "@" in email and "." in email:
            body["PrimaryEmailAddr"] = {"Address": email}
        if currency:
            body["CurrencyRef"] = {"value": currency}
        digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]
        request_id = f"nqc-cust-{company.id}-{coworker['Id']}-{digest}"
        return client.call("POST", "customer", params={"requestid": request_id}, json=body)["Customer"]
