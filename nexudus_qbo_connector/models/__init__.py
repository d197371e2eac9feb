from . import (
    nexudus_qbo_account,
    nexudus_qbo_location,
    nexudus_qbo_tax_code,
    nexudus_qbo_token,
    res_company,
    res_config_settings,
)
