import json
from datetime import datetime
from types import GeneratorType

from odoo import fields, models
from odoo.exceptions import UserError

from ..tools import invoice_payload
from ..tools.errors import ApiError
from ..tools.invoice_payload import money
from ..tools.moments import READ_OVERLAP, naive_utc, nexudus_minute
from ..tools.texts import translated

PAGE_SIZE = 1000  # records a request, Nexudus's largest page; invoices are committed a page at a time
IMPORT_LOCK_NAMESPACE = 0x4E53  # pg advisory lock class for "one worker imports this location"
EPOCH = datetime(2000, 1, 1)


class NexudusQboInvoice(models.Model):
    """Reading Nexudus invoices into Odoo, incrementally and in bulk.

    Sync policy: customers first (every coworker changed since the company's cursor), then per served
    location the invoices, in ``UpdatedOn`` order from the location's cursor (minus an overlap), a page of
    a thousand at a time, each next page starting from the last ``UpdatedOn`` seen rather than by page
    number, so an invoice updated while we read moves later instead of opening a gap. Rows are
    deduplicated by Nexudus id and ``UpdatedOn``. Lines are read with the documented range filter on
    their own ``UpdatedOn`` over the window being imported, once per import for every location, and
    matched to their invoices here; only an invoice new to Odoo whose lines the window missed (created
    before it) is read on its own. A mirrored invoice none of whose lines changed keeps its lines. The
    cursors are committed with each page, so a throttled import resumes where it stopped.
    """

    _inherit = "nexudus.qbo.invoice"

    def _import_company(self, company, client=None):
        """Read what changed in Nexudus for every location ``company`` serves; returns the rows touched."""
        client = client or company._nexudus_client()
        self._import_coworkers(company, client)
        lines = _LineWindow(self, client)
        touched = self.browse()
        cr = self.env.cr
        for location in company.nexudus_location_ids:
            cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (IMPORT_LOCK_NAMESPACE, location.id))
            if not cr.fetchone()[0]:
                continue  # another worker is importing this location right now
            try:
                self._commit()  # read the cursor as the last importer left it
                location.invalidate_recordset()
                read = self._import_location(company, location, client, lines)
                self.env["nexudus.qbo.run"]._tallying()._count(company, location, "read_count", len(read))
                touched |= read
            finally:
                cr.execute("SELECT pg_advisory_unlock(%s, %s)", (IMPORT_LOCK_NAMESPACE, location.id))
        self.search(
            [("company_id", "=", company.id), ("is_credit_note", "=", True), ("original_invoice_id", "=", False)]
        )._link_originals()
        return touched

    def _import_coworkers(self, company, client):
        """Every Nexudus customer changed since the company's cursor, a page at a time."""
        coworkers = self.env["nexudus.qbo.coworker"]
        since = company.nexudus_coworker_cursor
        for records in self._pages_since(client, "coworkers", "Coworker", {}, since - READ_OVERLAP if since else EPOCH):
            coworkers._upsert(company, records)
            newest = max((naive_utc(r.get("UpdatedOn")) for r in records if r.get("UpdatedOn")), default=None)
            if newest and (not company.nexudus_coworker_cursor or newest > company.nexudus_coworker_cursor):
                company.sudo().nexudus_coworker_cursor = newest
            self._commit()

    def _link_originals(self):
        """Point credit notes at the invoice they credit (it may have been read after them)."""
        for note in self:
            guid = note._nexudus_record().get("OriginalInvoiceGuid")
            original = guid and self.search(
                [("company_id", "=", note.company_id.id), ("nexudus_unique_id", "=", guid)], limit=1
            )
            if original:
                note.original_invoice_id = original

    def _import_location(self, company, location, client, lines):
        touched = self.browse()
        since = location.invoice_cursor - READ_OVERLAP if location.invoice_cursor else EPOCH
        filters = {"CoworkerInvoice_Business": location.nexudus_id}
        for records in self._pages_since(client, "coworkerinvoices", "CoworkerInvoice", filters, since):
            touched |= self._upsert_page(company, location, records, lines, since)
        return touched

    def _pages_since(self, client, entity, prefix, filters, since):
        """Pages of ``entity`` records updated since ``since``, in ``UpdatedOn`` order (keyset paging)."""
        page = 1
        while True:
            records = self._nexudus_call(
                client.page,
                entity,
                {**filters, f"from_{prefix}_UpdatedOn": nexudus_minute(since)},
                order_by="UpdatedOn",
                size=PAGE_SIZE,
                page=page,
            )
            if records:
                yield records
            if len(records) < PAGE_SIZE:
                return
            last = max(naive_utc(r.get("UpdatedOn")) for r in records)
            # A full page within one minute cannot move the filter on: take the next page number instead.
            page, since = (page + 1, since) if nexudus_minute(last) == nexudus_minute(since) else (1, last)

    def _upsert_page(self, company, location, records, lines, since):
        records = [r for r in records if r.get("BusinessId") in (None, location.nexudus_id)]
        existing = {
            row.nexudus_id: row
            for row in self.search([("company_id", "=", company.id), ("nexudus_id", "in", [r["Id"] for r in records])])
        }
        changed = [
            r for r in records if r["Id"] not in existing or existing[r["Id"]].nexudus_updated_on != r.get("UpdatedOn")
        ]
        found = lines.for_invoices(
            since, [r["Id"] for r in changed], new_ids={r["Id"] for r in changed} - set(existing)
        )
        touched = self.browse()
        for record in changed:
            touched |= self._upsert(company, location, record, found.get(record["Id"]), existing.get(record["Id"]))
        newest = max((naive_utc(r.get("UpdatedOn")) for r in records), default=None)
        if newest and (not location.invoice_cursor or newest > location.invoice_cursor):
            location.invoice_cursor = newest
        if changed:
            location._detect_prices_include_tax()
        self._commit()
        return touched

    def _nexudus_call(self, method, *args, **kw):
        """A Nexudus read: a refusal becomes a message for a person; a throttled or unreachable service is
        raised as it is, for the caller to pause and come back."""
        try:
            result = method(*args, **kw)
            return list(result) if isinstance(result, GeneratorType) else result
        except ApiError as exc:
            if exc.retryable:
                raise
            raise UserError(
                self.env._("Reading from Nexudus failed: %(error)s", error=translated(self.env, exc))
            ) from exc

    def _upsert(self, company, location, record, lines, row):
        """Create or update the row of one Nexudus invoice dict; ``lines`` None keeps the row's lines."""
        values = self._values_from_nexudus(record, lines, location)
        if lines is not None:
            values["line_ids"] = [fields.Command.clear()] + [
                fields.Command.create(self._line_values(line)) for line in lines
            ]
        if row:
            before = row._nexudus_record()
            row.write(values)
            row._note("updated")
            row._after_nexudus_change(before)
            return row
        row = self.create(
            {
                **values,
                "company_id": company.id,
                "location_id": location.id,
                "nexudus_id": record["Id"],
            }
        )
        row._note("read")
        row._evaluate()
        return row

    def _values_from_nexudus(self, record, lines, location):
        currency = self._currency_of(record, location)
        original = self.browse()
        if record.get("CreditNote") and record.get("OriginalInvoiceGuid"):
            original = self.search([("nexudus_unique_id", "=", record["OriginalInvoiceGuid"])], limit=1)
        return {
            "nexudus_unique_id": record.get("UniqueId"),
            "number": record.get("InvoiceNumber") or False,
            "is_credit_note": bool(record.get("CreditNote")),
            "original_invoice_id": original.id,
            "nexudus_status": _status(record),
            "customer_name": record.get("BillToName") or record.get("CoworkerFullName") or False,
            "nexudus_coworker_id": record.get("CoworkerId") or 0,
            "currency_id": currency.id,
            "currency_code": record.get("CurrencyCode") or False,
            "amount_total": float(money(record.get("TotalAmount"))),
            "amount_tax": float(money(record.get("TaxAmount"))),
            "amount_paid": float(money(record.get("PaidAmount"))),
            "issue_date": (record.get("CreatedOnLocal") or record.get("CreatedOn") or "")[:10] or False,
            "due_date": (record.get("DueDateLocal") or record.get("DueDate") or "")[:10] or False,
            "period_start": (record.get("InvoiceFromDateLocal") or record.get("InvoiceFromDate") or "")[:10] or False,
            "period_end": (record.get("InvoiceToDateLocal") or record.get("InvoiceToDate") or "")[:10] or False,
            "nexudus_updated_on": record.get("UpdatedOn"),
            "transferred_by_nexudus": bool(record.get("QuickbooksInvoiceTransfered")),
            "nexudus_refunded": bool(record.get("Refunded")),
            "nexudus_json": json.dumps(record, default=str),
            **(
                {"nexudus_lines_json": json.dumps(lines, default=str), "prices_reading": _prices_reading(lines)}
                if lines is not None
                else {}
            ),
        }

    def _currency_of(self, record, location):
        """The invoice's currency (its own, else its location's, else the company's), made active so that
        every amount shows in it."""
        code = record.get("CurrencyCode") or location.currency_code
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)], limit=1)
        if currency and not currency.active:
            currency.sudo().active = True
        return currency or location.company_id.currency_id

    def _line_values(self, line):
        return {
            "nexudus_id": line.get("Id"),
            "position": line.get("Position") or 0,
            "description": line.get("DisplayAs") or line.get("Description") or False,
            "account_code": line.get("FinancialAccountCode") or False,
            "account_name": line.get("FinancialAccountName") or False,
            "quantity": float(line.get("Quantity") or 0),
            "unit_price": float(line.get("UnitPrice") or 0),
            "subtotal": float(line.get("SubTotal") or 0),
            "discount": float(line.get("DiscountAmount") or 0),
            "tax_name": line.get("TaxCategoryName") or False,
            "tax_rate": float(line.get("TaxRate") or 0),
            "tax_amount": float(line.get("TaxAmount") or 0),
        }

    def _after_nexudus_change(self, before):
        """React to a change made in Nexudus after the invoice was last read."""
        record = self._nexudus_record()
        if self.transfer_state in ("sent",) and record.get("Void") and not before.get("Void"):
            self._set_state(
                "to_void", self.env._("Voided in Nexudus after it was transferred: to be voided in QuickBooks.")
            )
        elif self.transfer_state in ("sent", "voided", "to_void", "sending", "done_by_hand"):
            if before.get("TotalAmount") != record.get("TotalAmount"):
                self.message_post(
                    body=self.env._(
                        "The total changed in Nexudus after the transfer (%(before)s → %(after)s); QuickBooks was not "
                        "changed. Correct it in QuickBooks or credit it in Nexudus.",
                        before=before.get("TotalAmount"),
                        after=record.get("TotalAmount"),
                    )
                )
        else:
            self._evaluate()

    def _refresh_now(self):
        """Read these invoices again from Nexudus, lines included (a person asked, or a payment was just
        recorded on them): two requests per invoice."""
        for company in self.company_id:
            client = company._nexudus_client()
            for row in self.filtered(lambda r, c=company: r.company_id == c):
                record = self._nexudus_call(client.get, "coworkerinvoices", row.nexudus_id)
                lines = self._nexudus_call(
                    client.list, "coworkerinvoicelines", {"CoworkerInvoiceLine_CoworkerInvoice": row.nexudus_id}
                )
                row._upsert(company, row.location_id, record, lines, row)
                row._note("refreshed")
                self._commit()


class _LineWindow:
    """Invoice lines read in bulk by their own ``UpdatedOn`` (the documented range filter), once per
    import for every location, widened when a location's window starts earlier."""

    def __init__(self, invoices, client):
        self.invoices, self.client = invoices, client
        self.since = None
        self.by_invoice = {}

    def for_invoices(self, since, invoice_ids, new_ids):
        """Lines by invoice id; an invoice already mirrored whose lines did not change is left out (it
        keeps its lines), a new one the window missed is read on its own."""
        if invoice_ids and (self.since is None or since < self.since):
            self._read(since)
        found = {i: self.by_invoice[i] for i in invoice_ids if i in self.by_invoice}
        for invoice_id in sorted(set(new_ids) - set(found)):
            found[invoice_id] = self.invoices._nexudus_call(
                self.client.list, "coworkerinvoicelines", {"CoworkerInvoiceLine_CoworkerInvoice": invoice_id}
            )
        return found

    def _read(self, since):
        seen = {}
        for records in self.invoices._pages_since(
            self.client, "coworkerinvoicelines", "CoworkerInvoiceLine", {}, since
        ):
            seen.update((line["Id"], line) for line in records)
        self.by_invoice = {}
        for line in seen.values():
            self.by_invoice.setdefault(line.get("CoworkerInvoiceId"), []).append(line)
        self.since = since


def _prices_reading(lines):
    readings = {invoice_payload.line_pricing(line) for line in lines} - {invoice_payload.EITHER, None}
    return readings.pop() if len(readings) == 1 else False


def _status(record):
    if record.get("CreditNote"):
        return "credit_note"
    if record.get("Void"):
        return "void"
    if record.get("Draft"):
        return "draft"
    paid, total = money(record.get("PaidAmount")), money(record.get("TotalAmount"))
    if record.get("Paid") or (total and paid >= total):
        return "paid"
    return "partly_paid" if paid > 0 else "issued"
