import json
from datetime import datetime
from types import GeneratorType

from odoo import fields, models
from odoo.exceptions import UserError

from ..tools.errors import ApiError, ThrottledError
from ..tools.invoice_payload import money
from ..tools.moments import READ_OVERLAP, naive_utc, nexudus_minute

PAGE_SIZE = 200  # invoices read (and committed) at a time
LINES_CHUNK = 100  # invoice ids per bulk read of lines
IMPORT_LOCK_NAMESPACE = 0x4E53  # pg advisory lock class for "one worker imports this location"


class NexudusQboInvoice(models.Model):
    """Reading Nexudus invoices into Odoo, incrementally.

    Sync policy: per served location, invoices are read in ``UpdatedOn`` order from the location's cursor
    (minus an overlap), a page at a time, each next page starting from the last ``UpdatedOn`` seen rather
    than by page number, so an invoice updated while we read moves later instead of opening a gap. Rows
    are deduplicated by Nexudus id and ``UpdatedOn``; lines are read in bulk for a page's changed invoices.
    The cursor is committed with each page.
    """

    _inherit = "nexudus.qbo.invoice"

    def _import_company(self, company, client=None):
        """Read what changed in Nexudus for every location ``company`` serves; returns the rows touched."""
        client = client or company._nexudus_client()
        touched = self.browse()
        cr = self.env.cr
        for location in company.nexudus_location_ids:
            cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (IMPORT_LOCK_NAMESPACE, location.id))
            if not cr.fetchone()[0]:
                continue  # another worker is importing this location right now
            try:
                self.env["ir.cron"]._commit_progress()  # read the cursor as the last importer left it
                location.invalidate_recordset()
                touched |= self._import_location(company, location, client)
            finally:
                cr.execute("SELECT pg_advisory_unlock(%s, %s)", (IMPORT_LOCK_NAMESPACE, location.id))
        self.search(
            [("company_id", "=", company.id), ("is_credit_note", "=", True), ("original_invoice_id", "=", False)]
        )._link_originals()
        return touched

    def _link_originals(self):
        """Point credit notes at the invoice they credit (it may have been read after them)."""
        for note in self:
            guid = note._nexudus_record().get("OriginalInvoiceGuid")
            original = guid and self.search(
                [("company_id", "=", note.company_id.id), ("nexudus_unique_id", "=", guid)], limit=1
            )
            if original:
                note.original_invoice_id = original

    def _import_location(self, company, location, client):
        touched = self.browse()
        since = location.invoice_cursor - READ_OVERLAP if location.invoice_cursor else datetime(2000, 1, 1)
        page = 1
        while True:
            filters = {
                "CoworkerInvoice_Business": location.nexudus_id,
                "from_CoworkerInvoice_UpdatedOn": nexudus_minute(since),
            }
            records = self._nexudus_call(
                client.page, "coworkerinvoices", filters, order_by="UpdatedOn", size=PAGE_SIZE, page=page
            )
            touched |= self._upsert_page(company, location, client, records)
            if len(records) < PAGE_SIZE:
                return touched
            last = max(naive_utc(r.get("UpdatedOn")) for r in records)
            # A full page within one minute cannot move the filter on: take the next page number instead.
            page, since = (page + 1, since) if nexudus_minute(last) == nexudus_minute(since) else (1, last)

    def _upsert_page(self, company, location, client, records):
        records = [r for r in records if r.get("BusinessId") in (None, location.nexudus_id)]
        existing = {
            row.nexudus_id: row
            for row in self.search([("company_id", "=", company.id), ("nexudus_id", "in", [r["Id"] for r in records])])
        }
        changed = [
            r for r in records if r["Id"] not in existing or existing[r["Id"]].nexudus_updated_on != r.get("UpdatedOn")
        ]
        lines = self._read_lines(client, [r["Id"] for r in changed])
        touched = self.browse()
        for record in changed:
            touched |= self._upsert(company, location, record, lines.get(record["Id"], []), existing.get(record["Id"]))
        newest = max((naive_utc(r.get("UpdatedOn")) for r in records), default=None)
        if newest and (not location.invoice_cursor or newest > location.invoice_cursor):
            location.invoice_cursor = newest
        self.env["ir.cron"]._commit_progress()
        return touched

    def _read_lines(self, client, invoice_ids):
        """Lines of ``invoice_ids`` by invoice, a hundred invoices a request. Whether Nexudus honours a list
        in ``CoworkerInvoiceLine_CoworkerInvoice`` is not documented: lines are filtered here too, and an
        invoice none of whose lines came back is read on its own."""
        wanted = set(invoice_ids)
        lines = {}
        for start in range(0, len(invoice_ids), LINES_CHUNK):
            chunk = invoice_ids[start : start + LINES_CHUNK]
            filters = {"CoworkerInvoiceLine_CoworkerInvoice": "[" + ",".join(map(str, chunk)) + "]"}
            for line in self._nexudus_call(client.list, "coworkerinvoicelines", filters):
                if line.get("CoworkerInvoiceId") in wanted:
                    lines.setdefault(line["CoworkerInvoiceId"], []).append(line)
        for invoice_id in wanted - set(lines):
            filters = {"CoworkerInvoiceLine_CoworkerInvoice": invoice_id}
            found = self._nexudus_call(client.list, "coworkerinvoicelines", filters)
            lines[invoice_id] = [line for line in found if line.get("CoworkerInvoiceId") == invoice_id]
        return lines

    def _nexudus_call(self, method, *args, **kw):
        try:
            result = method(*args, **kw)
            return list(result) if isinstance(result, GeneratorType) else result
        except ThrottledError:
            raise  # the scheduled action comes back when Nexudus says
        except ApiError as exc:
            raise UserError(self.env._("Reading invoices from Nexudus failed: %(error)s", error=exc)) from exc

    def _upsert(self, company, location, record, lines, row):
        values = self._values_from_nexudus(record, lines)
        line_commands = [fields.Command.clear()] + [fields.Command.create(self._line_values(line)) for line in lines]
        if row:
            before = row._nexudus_record()
            row.write({**values, "line_ids": line_commands})
            row._after_nexudus_change(before)
            return row
        row = self.create(
            {
                **values,
                "company_id": company.id,
                "location_id": location.id,
                "nexudus_id": record["Id"],
                "line_ids": line_commands,
            }
        )
        row._evaluate()
        return row

    def _values_from_nexudus(self, record, lines):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", record.get("CurrencyCode"))], limit=1)
        )
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
            "nexudus_json": json.dumps(record, default=str),
            "nexudus_lines_json": json.dumps(lines, default=str),
        }

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
        elif self.transfer_state in ("sent", "voided", "to_void", "sending"):
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
        """Read these invoices again from Nexudus (one request per invoice: a person asked for them)."""
        for company in self.company_id:
            client = company._nexudus_client()
            rows = self.filtered(lambda r, c=company: r.company_id == c)
            lines = rows._read_lines(client, rows.mapped("nexudus_id"))
            for row in rows:
                record = self._nexudus_call(client.get, "coworkerinvoices", row.nexudus_id)
                row._upsert(company, row.location_id, record, lines.get(row.nexudus_id, []), row)
                self.env["ir.cron"]._commit_progress()


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
