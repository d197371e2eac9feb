import logging

from odoo.tests import tagged

from .common import ConnectorCase, connect_qbo


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@tagged("standard", "post_install", "-at_install")
class TestSecretsStayOutOfLogs(ConnectorCase):
    def test_connect_refresh_and_sign_in_log_no_secret(self):
        handler = _Collect()
        root = logging.getLogger()
        noisy = [
            logging.getLogger(name)
            for name in (
                "requests_oauthlib",
                "requests_oauthlib.oauth2_session",
                "urllib3",
                "odoo.addons.nexudus_qbo_connector",
            )
        ]
        levels = [logger.level for logger in noisy]
        root.addHandler(handler)
        for logger in noisy:
            logger.setLevel(logging.DEBUG)
        try:
            connect_qbo(self)
            token = self.env["nexudus.qbo.token"]._get(self.env.company, "qbo")
            with self.enter_registry_test_mode():
                self.env["nexudus.qbo.token"]._qbo_access_token(
                    self.env.company, self.env.company._qbo_oauth(), stale=token.access_token
                )
                self.env.company._nexudus_locations()
        finally:
            root.removeHandler(handler)
            for logger, level in zip(noisy, levels, strict=True):
                logger.setLevel(level)
        text = "\n".join(handler.lines)
        self.assertIn("oauth2/v1/tokens/bearer", text, "the token calls were logged at all")
        tokens = self.env["nexudus.qbo.token"].search([("company_id", "=", self.env.company.id)])
        secrets = [self.env.company.sudo().qbo_client_secret, "secret"]
        secrets += tokens.mapped("access_token") + tokens.mapped("refresh_token")
        for secret in filter(None, secrets):
            self.assertNotIn(secret, text)
