"""Points the demo database at the simulators; run inside ``odoo shell`` by bin/demo.

Reads NEXUDUS_URL, QBO_URL and ODOO_URL from the environment.
"""

import os

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
env.company.write(
    {
        "nexudus_email": "admin@example.com",
        "nexudus_password": "secret",
        "qbo_environment": "sandbox",
        "qbo_client_id": "sim-client-id",
        "qbo_client_secret": "sim-client-secret",
    }
)
env.cr.commit()
