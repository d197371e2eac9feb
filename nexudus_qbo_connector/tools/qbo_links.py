"""Web addresses of QuickBooks Online documents, for people (not the API).

QuickBooks opens a transaction at ``<app host>/app/<page>?txnId=<Id>``; the app host depends on the
environment the company is connected to. The pages are those QuickBooks' own address bar shows for an
invoice, a credit memo and a received payment.
"""

from urllib.parse import quote

APP_HOSTS = {"sandbox": "https://app.sandbox.qbo.intuit.com", "production": "https://app.qbo.intuit.com"}
PAGES = {"Invoice": "invoice", "CreditMemo": "creditmemo", "Payment": "recvpayment"}


def document_url(environment, entity, txn_id):
    """The address of QuickBooks document ``entity`` ``txn_id`` (None without an id)."""
    if not txn_id:
        return None
    host = APP_HOSTS.get(environment or "sandbox", APP_HOSTS["sandbox"])
    return f"{host}/app/{PAGES[entity]}?txnId={quote(str(txn_id), safe='')}"
