"""Prepares the demo database as an operator would; run inside ``odoo shell`` by bin/demo.

Reads NEXUDUS_URL, QBO_URL and ODOO_URL from the environment. Points the company at the simulators, then
does what an operator clicks through once: Nexudus "Test connection", "Connect with QuickBooks" (the
simulator's consent form is submitted over HTTP instead of by a browser), "Refresh lists", "Create
QuickBooks items", the payments account and default tax code, the three payment options (send Nexudus
payments, reconcile QuickBooks payments, send them to Nexudus automatically) and a first import of the
Nexudus invoices. Each step is committed. Lines starting with ``DEMO`` are what bin/demo shows.
"""

import os
from urllib.parse import parse_qs, urlsplit

import requests

# oauthlib refuses plain HTTP unless told; the simulators speak HTTP on loopback (never in production).
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

nexudus_url = os.environ["NEXUDUS_URL"]
qbo_url = os.environ["QBO_URL"]
params = env["ir.config_parameter"].sudo()
for key, value in {
    "nexudus_api_url": nexudus_url,
    "qbo_api_url": qbo_url,
    "intuit_authorize_url": f"{qbo_url}/connect/oauth2",
    "intuit_token_url": f"{qbo_url}/oauth2/v1/tokens/bearer",
    "intuit_revoke_url": f"{qbo_url}/v2/oauth2/tokens/revoke",
}.items():
    params.set_param(f"nexudus_qbo_connector.{key}", value)
params.set_param("web.base.url", os.environ["ODOO_URL"])
params.set_param("web.base.url.freeze", "True")
company = env.company
company.write(
    {
        "nexudus_email": "admin@example.com",
        "nexudus_password": "secret",
        "qbo_environment": "sandbox",
        "qbo_client_id": "sim-client-id",
        "qbo_client_secret": "sim-client-secret",
    }
)
env.cr.commit()

# Nexudus "Test connection": the locations the credentials see, all served at first.
locations = company._nexudus_locations()
env.cr.commit()
print(f"DEMO Nexudus: {len(locations)} locations served ({', '.join(locations.mapped('name'))})")

# "Connect with QuickBooks": the consent form a person submits with "Connect", then the callback's work.
authorization = parse_qs(urlsplit(company._qbo_authorization_url()).query)
env.cr.commit()  # the state's nonce
consent = {key: values[-1] for key, values in authorization.items()}
answer = requests.post(
    f"{qbo_url}/connect/oauth2", data={**consent, "action": "authorize"}, allow_redirects=False, timeout=10
)
redirect = parse_qs(urlsplit(answer.headers.get("Location", "")).query)
if answer.status_code != 302 or "code" not in redirect:
    raise SystemExit(f"The QuickBooks simulator did not approve the connection: {answer.status_code} {answer.text}")
company._qbo_finish_connect(redirect["code"][0], redirect["realmId"][0])
env.cr.commit()
print(f"DEMO QuickBooks: connected to {company.qbo_company_name} (realm {company.qbo_realm_id})")

# "Refresh lists": both charts read, mapping rows created and matched by exact name and code.
company._nexudus_qbo_refresh_chart()
env.cr.commit()
maps = env["nexudus.qbo.account.map"].search([("company_id", "=", company.id)])
without_item = maps.filtered(lambda m: m.qbo_account_id and not m.qbo_item_id and m.nexudus_type != "payments")
if without_item:
    without_item.action_create_items()  # "Create QuickBooks items" on the mapped accounts that have none
env.cr.commit()
pay_maps = maps.filtered(lambda m: m.nexudus_code == "PAY-001")
payments_account = pay_maps.qbo_account_id.filtered("is_deposit_account")[:1]
no_tax = env["nexudus.qbo.tax.code"].search(
    [("company_id", "=", company.id), ("rate", "=", 0), ("tax_group", "=", False)], order="name", limit=1
)
company.write({"nexudus_qbo_payments_account_id": payments_account.id, "nexudus_qbo_default_tax_code_id": no_tax.id})
env.cr.commit()
unmapped = maps.filtered(lambda m: not m.ready)
print(
    f"DEMO Mappings: {len(maps) - len(unmapped)} of {len(maps)} account mappings ready "
    f"({len(without_item)} QuickBooks items created); payments account {payments_account.display_name or 'none'}; "
    f"default tax code {no_tax.display_name or 'none'}"
)

# The payment options of Settings › Nexudus ↔ QuickBooks Online; invoices stay sent by hand (the demo's clicks).
company.write(
    {
        "nexudus_qbo_send_payments": True,
        "nexudus_qbo_reconcile_payments": True,
        "nexudus_qbo_auto_pull_payments": True,
    }
)
env.cr.commit()
auto_send = "on" if company.nexudus_qbo_auto_send_invoices else "off: send them from the list"
print(
    "DEMO Payments: Nexudus payments sent to QuickBooks, QuickBooks payments reconciled and sent to Nexudus "
    f"automatically (automatic sending of invoices {auto_send})"
)

# "Import from Nexudus": every invoice of the served locations, each with its transfer state.
env["nexudus.qbo.invoice"]._as_connector()._import_company(company)
env.cr.commit()
invoices = env["nexudus.qbo.invoice"].search([("company_id", "=", company.id)])
labels = dict(invoices._fields["transfer_state"]._description_selection(env))
counts = {}
for invoice in invoices:
    counts[invoice.transfer_state] = counts.get(invoice.transfer_state, 0) + 1
summary = ", ".join(f"{count} {labels[state].lower()}" for state, count in sorted(counts.items()))
print(f"DEMO Invoices imported from Nexudus: {len(invoices)} ({summary})")
