from . import (
    nexudus_qbo_currency_sums,  # first: invoices and payments inherit it
    nexudus_qbo_transfer_mixin,  # first: invoices and payments inherit it
)

# isort: split
from . import (
    nexudus_qbo_account,
    nexudus_qbo_account_map,
    nexudus_qbo_coworker,
    nexudus_qbo_customer,
    nexudus_qbo_customer_link,
    nexudus_qbo_financial_account,
    nexudus_qbo_invoice,
    nexudus_qbo_invoice_line,
    nexudus_qbo_item,
    nexudus_qbo_location,
    nexudus_qbo_location_overview,
    nexudus_qbo_payment,
    nexudus_qbo_payment_method_map,
    nexudus_qbo_rate_budget,
    nexudus_qbo_run,
    nexudus_qbo_run_line,
    nexudus_qbo_scheduler,
    nexudus_qbo_sweep,
    nexudus_qbo_tax_code,
    nexudus_qbo_tax_map,
    nexudus_qbo_tax_rate,
    nexudus_qbo_token,
    nexudus_qbo_transfer_activity,
    nexudus_qbo_webhook_delivery,
    res_company,
    res_config_settings,
)
