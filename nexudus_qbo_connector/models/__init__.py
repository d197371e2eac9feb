from . import nexudus_qbo_token, res_company, res_config_settings
