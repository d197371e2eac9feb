"""A read-only HTML overview of the simulated Nexudus account, for a person watching the demo.

Served at ``GET /`` without authentication or request limits (the admin REST API lives under ``/api/``): the
locations (whether their prices include tax comes from the world: the API has no such field), then
the latest invoices and credit notes with their number, customer, total, amount paid, amount due and status
(Paid, Refunded, Partly paid...), then the latest ledger entries (charges, payments, credits, refunds) with their
invoice, code, debit, credit, the customer's balance and the payment method. Every value is HTML-escaped.
"""

import html
from decimal import Decimal

from ..httpbase import Response
from .values import PAYMENT_METHODS

LATEST = 100  # invoices and ledger entries listed, newest first
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem 2rem; color: #1f2933; }
h1 { margin: 0 0 .2rem; font-size: 1.6rem; } h2 { margin: 1.6rem 0 .4rem; font-size: 1.2rem; }
.sub { color: #616e7c; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #e4e7eb; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f5f7fa; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.mark { display: inline-block; padding: 0 .4rem; border-radius: .6rem; font-size: .75rem; background: #e4e7eb; }
.mark.paid { background: #c6f7e2; } .mark.issued, .mark.partly-paid { background: #fce588; }
.mark.void, .mark.refunded { background: #ffd0d0; } .mark.credit-note { background: #d9e8ff; }
"""


def esc(value):
    return html.escape("" if value is None else str(value), quote=True)


def status(invoice):
    """The invoice's status as Nexudus shows it: Credit note, Void, Draft, Paid, Refunded, Partly paid or Issued."""
    if invoice.get("CreditNote"):
        return "Credit note"
    if invoice.get("Void"):
        return "Void"
    if invoice.get("Draft"):
        return "Draft"
    paid, total = Decimal(str(invoice.get("PaidAmount") or 0)), Decimal(str(invoice.get("TotalAmount") or 0))
    if invoice.get("Paid") or (total and paid >= total):
        return "Paid"
    if invoice.get("Refunded"):
        return "Refunded"
    return "Partly paid" if paid > 0 else "Issued"


def _locations(data, inclusive):
    counts = {}
    for invoice in data.coworkerinvoices.values():
        counts[invoice.get("BusinessId")] = counts.get(invoice.get("BusinessId"), 0) + 1
    rows = "".join(
        f"<tr><td>{esc(b['Id'])}</td><td>{esc(b.get('Name'))}</td><td>{esc(b.get('TownCity'))}</td>"
        f"<td>{esc(b.get('CountryName'))}</td><td>{esc(b.get('CurrencyCode'))}</td>"
        f"<td>{'yes' if b['Id'] in inclusive else 'no'}</td>"
        f'<td class="num">{counts.get(b["Id"], 0)}</td></tr>'
        for b in sorted(data.businesses.values(), key=lambda b: b.get("Name") or "")
    )
    return (
        f"<h2>Locations ({len(data.businesses)})</h2><table><thead><tr><th>Id</th><th>Name</th><th>Town</th>"
        '<th>Country</th><th>Currency</th><th>Prices include tax</th><th class="num">Invoices</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _invoices(data):
    newest_first = sorted(data.coworkerinvoices.values(), key=lambda i: (i.get("CreatedOn") or "", i["Id"]))[::-1]
    invoices = newest_first[:LATEST]
    rows = []
    for invoice in invoices:
        label = status(invoice)
        rows.append(
            f"<tr><td>{esc(invoice['Id'])}</td><td>{esc(invoice.get('InvoiceNumber') or '(no number yet)')}</td>"
            f"<td>{esc(invoice.get('BusinessName'))}</td>"
            f"<td>{esc(invoice.get('BillToName') or invoice.get('CoworkerFullName'))}</td>"
            f"<td>{esc((invoice.get('CreatedOnLocal') or invoice.get('CreatedOn') or '')[:10])}</td>"
            f'<td class="num">{esc(invoice.get("CurrencyCode"))} {Decimal(str(invoice.get("TotalAmount") or 0)):,.2f}'
            f'</td><td class="num">{Decimal(str(invoice.get("PaidAmount") or 0)):,.2f}</td>'
            f'<td class="num">{Decimal(str(invoice.get("DueAmount") or 0)):,.2f}</td>'
            f"<td>{esc((invoice.get('PaidOnLocal') or invoice.get('PaidOn') or '')[:10])}</td>"
            f'<td><span class="mark {label.lower().replace(" ", "-")}">{esc(label)}</span></td></tr>'
        )
    return (
        f"<h2>Latest invoices ({len(invoices)} of {len(data.coworkerinvoices)})</h2><table><thead><tr><th>Id</th>"
        '<th>Number</th><th>Location</th><th>Customer</th><th>Date</th><th class="num">Total</th>'
        '<th class="num">Paid</th><th class="num">Due</th><th>Paid on</th><th>Status</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _amount(value):
    amount = Decimal(str(value or 0))
    return f"{amount:,.2f}" if amount else ""


def _ledger(data):
    entries = sorted(data.coworkerledgerentries.values(), key=lambda e: (e.get("CreatedOn") or "", e["Id"]))[::-1]
    rows = "".join(
        f"<tr><td>{esc(entry['Id'])}</td><td>{esc((entry.get('TransactionDateLocal') or '')[:10])}</td>"
        f"<td>{esc(entry.get('CoworkerInvoiceInvoiceNumber'))}</td><td>{esc(entry.get('CoworkerFullName'))}</td>"
        f"<td>{esc(entry.get('Code'))}</td><td>{esc(entry.get('Description'))}</td>"
        f'<td class="num">{_amount(entry.get("Debit"))}</td><td class="num">{_amount(entry.get("Credit"))}</td>'
        f'<td class="num">{Decimal(str(entry.get("Balance") or 0)):,.2f}</td>'
        f"<td>{esc(PAYMENT_METHODS.get(entry.get('PaymentGatewayName'), entry.get('PaymentGatewayName')))}</td></tr>"
        for entry in entries[:LATEST]
    )
    return (
        f"<h2>Latest ledger entries ({min(LATEST, len(entries))} of {len(entries)})</h2><table><thead><tr>"
        "<th>Id</th><th>Date</th><th>Invoice</th><th>Customer</th><th>Code</th><th>Description</th>"
        '<th class="num">Debit</th><th class="num">Credit</th><th class="num">Balance</th>'
        f"<th>Payment method</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def render(data, inclusive=()):
    """The overview page of ``data`` (a NexudusData); call it holding the simulator's lock.

    ``inclusive``: ids of the locations whose prices include tax (the world's, not a served field)."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Nexudus simulator</title>'
        f"<style>{STYLE}</style></head><body><h1>Nexudus simulator</h1>"
        '<p class="sub">The admin REST API is under /api/ &middot; read-only overview, reload to see changes</p>'
        f"{_locations(data, set(inclusive))}{_invoices(data)}{_ledger(data)}</body></html>"
    )


class OverviewMixin:
    """The ``GET /`` route; the simulator provides ``data``, ``lock`` and ``route``."""

    def overview_routes(self):
        self.route("GET", r"/", self.overview)

    def overview(self, request):
        with self.lock:
            inclusive = {location.id for location in self.world.locations if location.definition.tax_inclusive}
            return Response(200, render(self.data, inclusive))
