import hashlib

from odoo import fields, models
from odoo.exceptions import UserError

from ..tools import batching, list_payload, matching
from ..tools.advisory_locks import advisory_locks
from ..tools.constants import CUSTOMER_LINK_LOCK, CUSTOMER_NAME_LOCK
from ..tools.errors import ApiError, RejectedError, ThrottledError, TransientError
from ..tools.qbo_client import quote
from ..tools.qbo_objects import field, read, to_body
from ..tools.texts import translated
from ..tools.transferability import CUSTOMER_LINKS, MANAGERS

DUPLICATE_NAME = "6240"
BATCH_THRESHOLD = 12  # fewer new customers than this are made one at a time, sparing the batch budget


def _name_key(name):
    """A name as QuickBooks compares it."""
    return matching.clean_name(name).casefold()


def _name_lock_key(name):
    """A 32-bit advisory lock key for a QuickBooks name, the same for names QuickBooks holds to be one."""
    digest = hashlib.sha1(matching.clean_name(name).casefold().encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


class NexudusQboCustomerLink(models.Model):
    """Which QuickBooks customer stands for one Nexudus customer, made on first use and never moved.

    Nexudus's rule: the QuickBooks customer is the one named like the Nexudus billing name, or the full
    name when the billing name is blank; an existing QuickBooks customer of that name no link uses is
    adopted. On top of it, one customer per person: a QuickBooks customer already linked to another
    Nexudus customer is shared only by members billed to the same company (a billing name that is a
    company's: ``CoworkerType`` 2, or the member's company name); anyone else whose name is taken — by
    another person's customer, a vendor or employee (QuickBooks names are unique across the three), or a
    customer in another currency — gets "<name> (<location>, <Nexudus id>)", the same on every run, and
    the link says why (``disambiguation``).
    """

    _name = "nexudus.qbo.customer.link"
    _description = "Nexudus–QuickBooks customer link"
    _check_company_auto = True
    _order = "qbo_display_name"
    _rec_name = "qbo_display_name"

    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    nexudus_coworker_id = fields.Integer("Nexudus customer ID", required=True)
    nexudus_full_name = fields.Char("Nexudus full name")
    nexudus_billing_name = fields.Char("Nexudus billing name")
    nexudus_location_name = fields.Char("Nexudus location", help="The location the customer is invoiced from.")
    company_billing = fields.Boolean(
        "Billed to a company",
        help="The billing name is a company's: the other members billed to that company share its QuickBooks "
        "customer. Without it the Nexudus customer is one person with a QuickBooks customer of their own.",
    )
    customer_id = fields.Many2one(
        "nexudus.qbo.customer",
        string="QuickBooks customer",
        required=True,
        index=True,
        ondelete="restrict",
        check_company=True,
        help="Picked from the QuickBooks customers read by “Refresh lists” (and those the connector created).",
    )
    # What the transfers send and look links up by: always the picked customer's.
    qbo_customer_id = fields.Char(related="customer_id.qbo_id", store=True, index=True, string="QuickBooks customer ID")
    qbo_display_name = fields.Char(related="customer_id.name", store=True, string="QuickBooks name")
    link_kind = fields.Selection(
        [
            ("adopted", "Existing customer adopted"),
            ("created", "Created by the connector"),
            ("shared", "Company customer shared"),
            ("manual", "Set by hand"),
        ],
        string="How",
        required=True,
        default="manual",
    )
    disambiguation = fields.Char(
        "Why this name",
        help="Why the QuickBooks name is not the Nexudus billing (or full) name as it stands.",
    )

    _company_coworker_uniq = models.UniqueIndex(
        "(company_id, nexudus_coworker_id)",
        "This Nexudus customer is already linked.",
    )

    def write(self, vals):
        if not self.env.context.get("nexudus_qbo_auto_link") and "customer_id" in vals:
            vals = {"link_kind": "manual", "disambiguation": False, **vals}
        result = super().write(vals)
        if not self.env.context.get("nexudus_qbo_auto_link"):
            self.env["nexudus.qbo.invoice"]._reevaluate_waiting(self.company_id)
        return result

    def _resolve_for_invoice(self, company, context, invoice):
        """The link for the customer of a Nexudus ``invoice`` dict, reading the customer from Nexudus only
        when no link exists yet. With multicurrency on, the customer is in the invoice's currency."""
        domain = [("company_id", "=", company.id), ("nexudus_coworker_id", "=", invoice.get("CoworkerId"))]
        link = self.search(domain, limit=1)
        if link:
            return link
        # Two workers sending two invoices of one new customer: the second waits for the first to link
        # it, then reads its link in a fresh transaction instead of creating the customer again. Two new
        # customers of one name wait for each other too, so that each sees the other's link and neither
        # adopts the customer the other just made.
        with advisory_locks(self.env.cr, CUSTOMER_LINK_LOCK, invoice["CoworkerId"], wait=True):
            self.env["ir.cron"]._commit_progress()
            link = self.search(domain, limit=1)
            if link:
                return link
            coworker = self._coworker(company, context, invoice["CoworkerId"])
            name_key = _name_lock_key(self._base_name(coworker))
            with advisory_locks(self.env.cr, CUSTOMER_NAME_LOCK, name_key, wait=True):
                self.env["ir.cron"]._commit_progress()
                currency = invoice.get("CurrencyCode") if context.multicurrency else None
                link = self._resolve(company, context.client, coworker, currency)
                self.env["ir.cron"]._commit_progress()
            return link

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
                self.env._(
                    "Reading Nexudus customer %(id)s failed: %(error)s", id=coworker_id, error=translated(self.env, exc)
                )
            ) from exc
        self.env["nexudus.qbo.coworker"]._upsert(company, [coworker])
        return coworker

    @staticmethod
    def _base_name(coworker):
        return matching.customer_name(coworker.get("BillingName"), coworker.get("FullName"))

    @staticmethod
    def _bills_a_company(coworker):
        return matching.bills_a_company(
            coworker.get("BillingName"), coworker.get("CompanyName"), coworker.get("CoworkerType")
        )

    def _resolve(self, company, client, coworker, currency=None):
        """The link for the Nexudus ``coworker`` dict, adopting, sharing or creating the QuickBooks customer.
        A link once made is returned as it is, whatever changed since in Nexudus or QuickBooks."""
        link = self.search([("company_id", "=", company.id), ("nexudus_coworker_id", "=", coworker["Id"])], limit=1)
        if link:
            return link
        name = self._base_name(coworker)
        if not name:
            raise UserError(
                self.env._(
                    "Nexudus customer %(id)s has neither a billing name nor a full name: give it one in Nexudus.",
                    id=coworker["Id"],
                )
            )
        try:
            row, kind, reasons = self._find_or_create(company, client, coworker, name, currency)
        except ApiError as exc:
            if exc.retryable:
                raise  # throttled or down: the invoice waits for the next run
            raise UserError(
                self.env._(
                    "QuickBooks refused the customer “%(name)s” (Nexudus customer %(id)s): %(error)s",
                    name=name,
                    id=coworker["Id"],
                    error=translated(self.env, exc),
                )
            ) from exc
        return self._link(company, coworker, row, kind, reasons)

    def _link(self, company, coworker, row, kind, reasons):
        """Record the QuickBooks customer ``row`` and link ``coworker`` to it."""
        customer = company._nexudus_qbo_store_customer(row)
        return self.create(
            {
                "company_id": company.id,
                "nexudus_coworker_id": coworker["Id"],
                "nexudus_full_name": coworker.get("FullName"),
                "nexudus_billing_name": coworker.get("BillingName"),
                "nexudus_location_name": coworker.get("InvoicingBusinessName"),
                "company_billing": self._bills_a_company(coworker),
                "customer_id": customer.id,
                "link_kind": kind,
                "disambiguation": "; ".join(reasons) or False,
            }
        )

    def _find_or_create(self, company, client, coworker, name, currency):
        """``(QuickBooks customer row, link kind, reasons the name was changed)`` for ``coworker``."""
        reasons = []
        existing = self._customer_named(client, name)
        held_in = field(existing, "CurrencyRef", "value", default=currency)
        if existing and currency and held_in != currency:
            # A QuickBooks customer has one currency for good: one in this currency gets its own name.
            reasons.append(
                self.env._(
                    "a customer in another currency (%(other)s) holds the name “%(name)s”", other=held_in, name=name
                )
            )
            name = f"{name} ({currency})"
            existing = self._customer_named(client, name)
        if existing:
            holder, shared = self._holder(company, coworker, existing, name)
            if not holder:
                return self._reactivated(client, existing), "shared" if shared else "adopted", reasons
            reasons.append(holder)
        else:
            try:
                return self._create_customer(company, client, coworker, name, currency), "created", reasons
            except RejectedError as exc:
                if exc.code != DUPLICATE_NAME:
                    raise
            reasons.append(self.env._("a vendor or employee holds the name “%(name)s”", name=name))
        # The name is someone else's: this customer's own deterministic name, adopted when an earlier run
        # created it and its link was lost (also under the name earlier versions gave it).
        unique = matching.disambiguated_name(name, coworker["Id"], coworker.get("InvoicingBusinessName"))
        candidates = list(dict.fromkeys((unique, matching.legacy_disambiguated_name(name, coworker["Id"]))))
        named = self._customers_named(client, candidates)
        for candidate in candidates:
            existing = named[candidate]
            if not existing:
                continue
            holder, _shared = self._holder(company, coworker, existing, candidate, own_name=True)
            if holder:
                raise UserError(
                    self.env._(
                        "The QuickBooks customer “%(name)s” the connector names Nexudus customer %(id)s after is "
                        "taken: %(why)s. Rename it in QuickBooks, or (%(who)s) link this Nexudus customer by hand "
                        "in %(where)s.",
                        name=candidate,
                        who=MANAGERS,
                        where=CUSTOMER_LINKS,
                        id=coworker["Id"],
                        why=holder,
                    )
                )
            return self._reactivated(client, existing), "created", reasons
        return self._create_customer(company, client, coworker, unique, currency), "created", reasons

    def _holder(self, company, coworker, row, name, own_name=False):
        """``(why, shared)``: why the QuickBooks customer ``row`` is not this ``coworker``'s to take (False
        when it is), and whether taking it shares the customer of the members of the same company.

        A customer another Nexudus customer is linked to is shared only between members billed to the same
        company. One no link uses is adopted, unless the connector created it for another person (its note
        says so). ``own_name``: the row bears this coworker's own deterministic name."""
        owners = self.search(
            [
                ("company_id", "=", company.id),
                ("qbo_customer_id", "=", row.Id),
                ("nexudus_coworker_id", "!=", coworker["Id"]),
            ],
            order="nexudus_coworker_id",
        )
        billing = coworker.get("BillingName")
        if owners:
            if (
                not own_name
                and self._bills_a_company(coworker)
                and all(o.company_billing and matching.same_name(o.nexudus_billing_name, billing) for o in owners)
            ):
                return False, True
            return (
                self.env._(
                    "“%(name)s” is already the QuickBooks customer of Nexudus customer %(owner)s",
                    name=name,
                    owner=owners[0].nexudus_coworker_id,
                ),
                False,
            )
        marked = matching.marked_coworker(field(row, "Notes"))
        if marked and marked != coworker["Id"] and not (own_name or self._bills_a_company(coworker)):
            return (
                self.env._(
                    "“%(name)s” was created in QuickBooks for Nexudus customer %(owner)s", name=name, owner=marked
                ),
                False,
            )
        return False, False

    def _customer_named(self, client, name):
        """The QuickBooks customer with exactly this name, active or not (QuickBooks compares names loosely)."""
        return self._customers_named(client, [name])[name]

    def _customers_named(self, client, names):
        """``{name: QuickBooks customer or None}`` for ``names``, active or not: those this call knows
        already, the others read in one query (and known from then on). QuickBooks compares names loosely:
        a customer whose name is exactly the one asked for comes first."""
        found = {name: client.known_customers.get(_name_key(name)) for name in names}
        unknown = [name for name, row in found.items() if not row]
        if unknown:
            listed = ", ".join(quote(name) for name in unknown)
            where = f"DisplayName = {listed}" if len(unknown) == 1 else f"DisplayName IN ({listed})"
            rows = client.query_documents("Customer", f"{where} AND Active IN (true, false)")
            for row in rows:
                client.known_customers[_name_key(field(row, "DisplayName"))] = row
            for name in unknown:
                alike = (
                    rows
                    if len(unknown) == 1
                    else [r for r in rows if _name_key(field(r, "DisplayName")) == _name_key(name)]
                )
                exact = [row for row in alike if field(row, "DisplayName") == name]
                found[name] = (exact or alike or [None])[0]
        return found

    def _reactivated(self, client, row):
        if field(row, "Active", default=True):
            return row
        row = read(
            "Customer", client.call("POST", "customer", json=to_body(list_payload.reactivation(row)))["Customer"]
        )
        client.known_customers.pop(_name_key(field(row, "DisplayName")), None)
        return row

    def _create_customer(self, company, client, coworker, name, currency):
        digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]
        request_id = f"nqc-cust-{company.id}-{coworker['Id']}-{digest}"
        row = client.save_document(list_payload.customer_document(coworker, name, currency), request_id=request_id)
        client.known_customers[_name_key(name)] = row  # the next coworker of this name finds it without a query
        return row

    # -- many new customers at once: in a batch request ------------------------------------------------
    def _create_in_batch(self, company, context, invoices):
        """Create, in one batch request before the invoices' own, the QuickBooks customers of the Nexudus
        ``invoices`` (dicts) that have no link yet and whose name no QuickBooks customer holds (one query
        tells); the others are linked one at a time (``_resolve_for_invoice``: adopting, sharing, renaming).
        A lost answer needs nothing: the next link finds the customer by its name and note, and adopts it."""
        wanted = {}
        for invoice in invoices:
            wanted.setdefault(invoice.get("CoworkerId"), invoice.get("CurrencyCode") if context.multicurrency else None)
        linked = self.search([("company_id", "=", company.id), ("nexudus_coworker_id", "in", list(wanted))])
        coworkers = self.env["nexudus.qbo.coworker"].search(
            [
                ("company_id", "=", company.id),
                ("nexudus_id", "in", list(set(wanted) - set(linked.mapped("nexudus_coworker_id")))),
            ]
        )
        names = {}  # one coworker per name: the others share or rename it afterwards, one at a time
        for coworker in (row._record() for row in coworkers):
            name = self._base_name(coworker)
            if name:
                names.setdefault(matching.clean_name(name).casefold(), (coworker, name))
        if not names:
            return
        coworker_ids = [coworker["Id"] for coworker, _name in names.values()]
        name_keys = [_name_lock_key(name) for _coworker, name in names.values()]
        with (
            advisory_locks(self.env.cr, CUSTOMER_LINK_LOCK, *coworker_ids) as linking,
            advisory_locks(self.env.cr, CUSTOMER_NAME_LOCK, *name_keys) as naming,
        ):
            self.env["ir.cron"]._commit_progress()
            free = [
                (coworker, name)
                for coworker, name in names.values()
                if coworker["Id"] in linking
                and _name_lock_key(name) in naming
                and not self.search_count(
                    [("company_id", "=", company.id), ("nexudus_coworker_id", "=", coworker["Id"])]
                )
            ]
            self._create_free_names(company, context, free[: batching.BATCH_SIZE], wanted)

    def _create_free_names(self, company, context, candidates, currencies):
        """Create the customers of ``candidates`` whose name one query finds free: in a batch request when
        they are many, else one by one (without a lookup each). What the query found is remembered for the
        links made next (``_customer_named``)."""
        if not candidates:
            return
        client = context.client
        named = self._customers_named(client, [name for _coworker, name in candidates])
        free = [(coworker, name) for coworker, name in candidates if not named[name]]
        if len(free) < BATCH_THRESHOLD:
            for coworker, name in free:
                try:
                    row = self._create_customer(company, client, coworker, name, currencies[coworker["Id"]])
                except ApiError as exc:
                    if isinstance(exc, ThrottledError):
                        raise
                    continue  # linked on its own with the invoice, which says what went wrong
                self._link(company, coworker, row, "created", [])
            self.env["ir.cron"]._commit_progress()
            return
        items = [
            (
                batching.item_id(position),
                "create",
                list_payload.customer_document(coworker, name, currencies[coworker["Id"]]),
            )
            for position, (coworker, name) in enumerate(free, 1)
        ]
        keys = sorted(f"{coworker['Id']}:{name}" for coworker, name in free)
        try:
            answers = client.batch_documents(items, request_id=batching.request_id(context.realm, "customers", *keys))
        except TransientError:
            return  # each is looked up by name when its invoice is sent
        except RejectedError:
            return  # each is made on its own, so that a refusal names its customer
        for (bid, _operation, _document), (coworker, _name) in zip(items, free, strict=True):
            row, _fault = answers.get(bid) or (None, None)
            if row is not None:
                client.known_customers[_name_key(field(row, "DisplayName"))] = row
                self._link(company, coworker, row, "created", [])
        self.env["ir.cron"]._commit_progress()
