"""Web addresses of Nexudus invoices, for people (not the API).

Nexudus documents its admin panel at ``https://dashboard.nexudus.com`` (invoices under Finance › Invoices)
but no address of one invoice, so the company gives it: the address of any invoice in its admin panel,
with ``{id}`` where the invoice's Nexudus ID goes. Without it, the admin panel itself is opened.
"""

from urllib.parse import quote, urlsplit

ADMIN_PANEL = "https://dashboard.nexudus.com"
PLACEHOLDER = "{id}"
EXAMPLE = f"{ADMIN_PANEL}/…/{PLACEHOLDER}"


def is_valid_template(template):
    """Whether ``template`` (empty allowed) is an https address holding the placeholder once."""
    if not template:
        return True
    parts = urlsplit(template.strip())
    return parts.scheme == "https" and bool(parts.netloc) and template.count(PLACEHOLDER) == 1


def invoice_url(template, nexudus_id):
    """The address of Nexudus invoice ``nexudus_id`` by the company's ``template``; the admin panel when
    there is no template (or no id)."""
    if not template or not nexudus_id:
        return ADMIN_PANEL
    return template.strip().replace(PLACEHOLDER, quote(str(nexudus_id), safe=""))
