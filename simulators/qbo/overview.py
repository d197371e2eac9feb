"""An HTML overview of the simulated QuickBooks company: the simulator's own "QuickBooks UI".

Served at ``GET /`` and ``GET /company/{realmId}`` without authentication, for a person watching the demo;
it is not part of Intuit's API. It lists the company's invoices, credit memos and payments newest first,
with what QBO computed (totals, balances) and the rows voided or deleted. Every value is HTML-escaped.

Its only changes are what a person does in QuickBooks about payments: "Receive payment" on an open invoice
(``POST /sim/receive-payment`` with ``invoice_id`` and ``amount``), "Void" and "Delete" on a payment
(``POST /sim/void-payment`` / ``/sim/delete-payment`` with ``payment_id``). They go through
:meth:`~simulators.qbo.writes.WritesMixin.record_payment` and its siblings, then redirect (303) to ``/``;
a refusal answers 400 with QBO's reason.
"""

import html
from decimal import Decimal

from simulators.httpbase import Response
from simulators.qbo.faults import WriteRejected

# (store name, title, number field, remaining-amount field, its column title)
SECTIONS = [
    ("Invoice", "Invoices", "DocNumber", "Balance", "Balance"),
    ("CreditMemo", "Credit memos", "DocNumber", "RemainingCredit", "Remaining credit"),
    ("Payment", "Payments", "PaymentRefNum", "UnappliedAmt", "Unapplied"),
]
ACTION_ENTITIES = ("Invoice", "Payment")  # the sections with buttons
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem 2rem; color: #1f2933; }
h1 { margin: 0 0 .2rem; font-size: 1.6rem; } h2 { margin: 1.6rem 0 .4rem; font-size: 1.2rem; }
.sub { color: #616e7c; margin: 0 0 1rem; } .prefs span { margin-right: 1.2rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #e4e7eb; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f5f7fa; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.voided td, tr.deleted td { color: #9aa5b1; } tr.deleted td { text-decoration: line-through; }
.mark { display: inline-block; padding: 0 .4rem; border-radius: .6rem; font-size: .75rem; background: #e4e7eb; }
.mark.paid { background: #c6f7e2; } .mark.open { background: #fce588; }
.mark.voided, .mark.deleted { background: #ffd0d0; }
.empty { color: #9aa5b1; font-style: italic; }
form.act { display: inline; margin: 0; } form.act input { width: 6rem; font: inherit; }
form.act button { font: inherit; font-size: .8rem; cursor: pointer; }
"""


def esc(value):
    return html.escape("" if value is None else str(value), quote=True)


def money(value):
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except ArithmeticError:
        return str(value)


def _customer_name(company, row):
    ref = row.get("CustomerRef") or {}
    if ref.get("name"):
        return ref["name"]
    customer = company.table("Customer").get(ref.get("value"))
    return customer["DisplayName"] if customer else ref.get("value", "")


def _sort_key(row):
    created = (row.get("MetaData") or {}).get("CreateTime", "")
    return (created, int(row["Id"]) if str(row["Id"]).isdigit() else 0)


def _status(entity, row, voided, remaining_field):
    if (entity, row["Id"]) in voided:
        return "voided", "Voided"
    if entity == "Payment":
        return ("open", "Unapplied") if Decimal(str(row.get("UnappliedAmt") or 0)) else ("paid", "Applied")
    if Decimal(str(row.get(remaining_field) or 0)):
        return "open", "Open"
    return "paid", "Paid" if entity == "Invoice" else "Used"


def _form(route, fields, label, amount=None):
    """A one-button form posting ``fields`` (hidden) and an optional editable ``amount`` to ``route``."""
    hidden = "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in fields.items())
    editable = "" if amount is None else f'<input name="amount" value="{esc(amount)}" inputmode="decimal"> '
    return (
        f'<form class="act" method="post" action="{esc(route)}">{hidden}{editable}<button>{esc(label)}</button></form>'
    )


def _actions(entity, row, kind):
    """The buttons of a row: receive a payment on an open invoice, void or delete a payment."""
    if entity == "Invoice" and kind == "open":
        return _form("/sim/receive-payment", {"invoice_id": row["Id"]}, "Receive payment", f"{row['Balance']:.2f}")
    if entity != "Payment":
        return ""
    void = [] if kind == "voided" else [_form("/sim/void-payment", {"payment_id": row["Id"]}, "Void")]
    return " ".join([*void, _form("/sim/delete-payment", {"payment_id": row["Id"]}, "Delete")])


def _section(sim, entity, title, number_field, remaining_field, remaining_title):
    company = sim.company
    rows = sorted(company.table(entity).rows.values(), key=_sort_key, reverse=True)
    deleted = [(row_id, moment) for kind, row_id, moment in reversed(sim.deleted) if kind == entity]
    head = (
        "<tr><th>Id</th><th>Number</th><th>Customer</th><th>Date</th><th>Currency</th>"
        f'<th class="num">Total</th><th class="num">{esc(remaining_title)}</th>'
        "<th>Private note</th><th>Status</th>"
    )
    actions = entity in ACTION_ENTITIES
    head += "<th>Actions</th></tr>" if actions else "</tr>"
    columns = 10 if actions else 9
    body = []
    for row in rows:
        kind, label = _status(entity, row, sim.voided, remaining_field)
        body.append(
            f'<tr class="{kind}"><td>{esc(row["Id"])}</td><td>{esc(row.get(number_field))}</td>'
            f"<td>{esc(_customer_name(company, row))}</td><td>{esc(row.get('TxnDate'))}</td>"
            f"<td>{esc((row.get('CurrencyRef') or {}).get('value'))}</td>"
            f'<td class="num">{esc(money(row.get("TotalAmt")))}</td>'
            f'<td class="num">{esc(money(row.get(remaining_field)))}</td>'
            f"<td>{esc(row.get('PrivateNote'))}</td>"
            f'<td><span class="mark {kind}">{esc(label)}</span></td>'
            + (f"<td>{_actions(entity, row, kind)}</td></tr>" if actions else "</tr>")
        )
    for row_id, moment in deleted:
        body.append(
            f'<tr class="deleted"><td>{esc(row_id)}</td><td colspan="7">deleted {esc(moment.isoformat())}</td>'
            '<td><span class="mark deleted">Deleted</span></td>' + ("<td></td></tr>" if actions else "</tr>")
        )
    if not body:
        body.append(f'<tr><td colspan="{columns}" class="empty">No {esc(title.lower())} yet.</td></tr>')
    count = f"{len(rows)}" + (f", {len(deleted)} deleted" if deleted else "")
    return f"<h2>{esc(title)} ({esc(count)})</h2><table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def render(sim):
    """The overview page of ``sim``'s company; call it holding ``sim.lock``."""
    company = sim.company
    info = company.company_info
    sales = (company.preferences or {}).get("SalesFormsPrefs") or {}
    prefs = "".join(
        f"<span>{esc(label)}: <strong>{'on' if sales.get(key) else 'off'}</strong></span>"
        for key, label in (
            ("AutoApplyCredit", "Automatically apply credits"),
            ("AutoApplyPayments", "Automatically apply payments"),
            ("CustomTxnNumbers", "Custom transaction numbers"),
        )
    )
    sections = "".join(_section(sim, *section) for section in SECTIONS)
    name = esc(info["CompanyName"])
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{name} - QuickBooks Online simulator</title><style>{STYLE}</style></head><body>"
        f"<h1>{name}</h1>"
        f'<p class="sub">QuickBooks Online simulator &middot; company (realm) {esc(company.realm_id)} &middot; '
        f"{esc(info.get('Country'))}, home currency {esc(company.home_currency)} &middot; "
        "reload to see new transactions</p>"
        f'<p class="prefs">{prefs}</p>{sections}</body></html>'
    )


class OverviewMixin:
    """The overview routes; the simulator provides ``company``, ``deleted``, ``voided``, ``lock``, ``route`` and the
    payment helpers of :class:`~simulators.qbo.writes.WritesMixin`."""

    def overview_routes(self):
        self.route("GET", r"/", self.overview)
        self.route("GET", r"/company/(?P<realm>[^/]+)", self.overview)
        self.route("POST", r"/sim/receive-payment", self.ui_action(self.record_payment, "invoice_id", "amount"))
        self.route("POST", r"/sim/void-payment", self.ui_action(self.void_payment, "payment_id"))
        self.route("POST", r"/sim/delete-payment", self.ui_action(self.delete_payment, "payment_id"))

    def ui_action(self, action, *fields):
        """A form handler calling ``action`` with the form's ``fields``, then back to the overview (303), or a
        400 page saying why not."""

        def handle(request):
            form = request.form()
            values = [form.get(field, "").strip() for field in fields]
            if not all(values):
                return _refused(f"The form needs {' and '.join(fields)}.")
            try:
                action(*values)
            except WriteRejected as exc:
                return _refused(f"{exc.message}: {exc.detail}")
            return Response(303, None, {"Location": "/"})

        return handle

    def overview(self, request):
        realm = request.path_args.get("realm")
        if realm is not None and realm != self.company.realm_id:
            return Response(404, f"<!DOCTYPE html><html><body><h1>No company {esc(realm)}</h1></body></html>")
        with self.lock:
            return Response(200, render(self))


def _refused(reason):
    return Response(
        400,
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not saved</title></head><body>'
        f'<h1>Not saved</h1><p>{esc(reason)}</p><p><a href="/">Back to the company</a></p></body></html>',
    )
