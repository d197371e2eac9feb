{
    "name": "Nexudus – QuickBooks Online Connector",
    "version": "19.0.1.0.0",
    "summary": "Transfer Nexudus invoices and payments to QuickBooks Online, exactly once, from Odoo",
    "category": "Accounting/Accounting",
    "author": "nexudus_qbo_connector developers",
    "website": "https://github.com/nexudus-qbo-connector/nexudus_qbo_connector",
    "license": "LGPL-3",
    "depends": ["account", "mail"],
    "external_dependencies": {"python": ["python-quickbooks", "requests-oauthlib"]},
    "data": [
        "security/nexudus_qbo_security.xml",
        "security/ir.model.access.csv",
        "views/res_config_settings_views.xml",
        "views/nexudus_qbo_menus.xml",
    ],
    "application": True,
}
