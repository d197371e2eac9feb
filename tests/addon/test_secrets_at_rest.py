"""Passwords, client secrets and tokens are stored encrypted, under keys Odoo's configuration holds."""

import os
from contextlib import contextmanager
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.exceptions import AccessError, UserError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged
from odoo.tools import config
from odoo.tools.sql import column_exists

from odoo.addons.nexudus_qbo_connector.models.encrypted_fields import (
    CONFIG_OPTION,
    ENVIRONMENT_VARIABLE,
    encrypt_at_rest,
)
from odoo.addons.nexudus_qbo_connector.tools import encryption

from .common import ADDON, ConnectorCase, connect_qbo

COMPANY_SECRETS = {"nexudus_password": "secret", "qbo_client_secret": "sim-client-secret"}


@contextmanager
def configured_keys(keys, environment=""):
    """Odoo's configuration file says ``nexudus_qbo_secret_key = keys``; the environment has ``environment``."""
    variables = {name: value for name, value in os.environ.items() if name != ENVIRONMENT_VARIABLE}
    if environment:
        variables[ENVIRONMENT_VARIABLE] = environment
    with patch.dict(os.environ, variables, clear=True), patch.dict(config.options.maps[0], {CONFIG_OPTION: keys}):
        yield


def new_key():
    return Fernet.generate_key().decode()


@tagged("standard", "post_install", "-at_install")
class TestSecretsAtRest(ConnectorCase):
    def setUp(self):
        super().setUp()
        self.key = new_key()
        self.enterContext(configured_keys(self.key))
        self.company = self.env.company.sudo()
        self.company.write(COMPANY_SECRETS)  # encrypted under this test's key
        connect_qbo(self)
        with self.enter_registry_test_mode():
            self.company._nexudus_locations()  # signs in to Nexudus and stores its tokens
        self.tokens = self.env["nexudus.qbo.token"].search([("company_id", "=", self.company.id)])
        self.assertEqual(set(self.tokens.mapped("service")), {"nexudus", "qbo"})

    def _stored_values(self):
        """Every value of the company's row and of its token rows, as PostgreSQL holds them."""
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT value FROM res_company c, json_each_text(row_to_json(c))
                WHERE c.id = %(company)s
               UNION ALL
               SELECT value FROM nexudus_qbo_token t, json_each_text(row_to_json(t))
                WHERE t.company_id = %(company)s""",
            {"company": self.company.id},
        )
        return [value for (value,) in self.env.cr.fetchall() if value]

    def _column(self, record, column):
        self.env.flush_all()
        self.env.cr.execute(f"SELECT {column} FROM {record._table} WHERE id = %s", (record.id,))
        return self.env.cr.fetchone()[0]

    def _clear_values(self):
        return list(COMPANY_SECRETS.values()) + self.tokens.mapped("access_token") + self.tokens.mapped("refresh_token")

    def test_the_database_holds_no_secret_in_clear_and_the_orm_reads_them_back(self):
        clear = self._clear_values()
        self.assertEqual(len(clear), 6)
        stored = self._stored_values()
        for value in clear:
            self.assertTrue(value)
            self.assertFalse([column for column in stored if value in column], "stored in clear")
        self.assertEqual(self._column(self.company, "nexudus_password_encrypted")[:6], "gAAAAA", "a Fernet token")
        self.env.invalidate_all()
        self.assertEqual(self.company.nexudus_password, "secret")
        self.assertEqual(self.company.qbo_client_secret, "sim-client-secret")
        self.assertEqual(self.company.qbo_state, "connected")
        with self.enter_registry_test_mode():
            info = self.company._qbo_client().company_info()  # with the access token read back
        self.assertEqual(info["CompanyName"], "Bridge Coworking Ltd")

    def test_a_new_key_first_still_reads_old_values_and_writes_under_the_new_key(self):
        new = new_key()
        with configured_keys(f"{new}, {self.key}"):
            self.env.invalidate_all()
            self.assertEqual(self.company.nexudus_password, "secret")
            self.assertEqual(self.company.qbo_state, "connected")
            qbo = self.tokens.filtered(lambda t: t.service == "qbo")
            old_refresh = qbo.refresh_token
            with self.enter_registry_test_mode():  # a refresh: the rotated tokens are written again
                self.env["nexudus.qbo.token"]._qbo_access_token(
                    self.company, self.company._qbo_oauth(), stale=qbo.access_token
                )
            self.company.nexudus_password = "new-secret"
            self.assertNotEqual(qbo.refresh_token, old_refresh)
            for record, column, value in (
                (self.company, "nexudus_password_encrypted", "new-secret"),
                (qbo, "refresh_token_encrypted", qbo.refresh_token),
                (qbo, "access_token_encrypted", qbo.access_token),
            ):
                stored = self._column(record, column)
                self.assertEqual(encryption.decrypt(new, stored), value, column)
                self.assertIsNone(encryption.decrypt(self.key, stored), f"{column} is under the new key only")
            # not written since: still under the old key, which stays configured until it is written again
            self.assertEqual(
                encryption.decrypt(self.key, self._column(self.company, "qbo_client_secret_encrypted")),
                "sim-client-secret",
            )

    def test_without_its_key_a_stored_secret_reads_as_absent_and_asks_to_sign_in_again(self):
        for keys in ("", new_key()):  # no key at all; a key that replaced the one they were saved with
            with self.subTest(keys=keys and "another key"), configured_keys(keys):
                self.env.invalidate_all()
                with (
                    self.assertNoLogs("odoo", level="WARNING"),
                    self.assertNoLogs(f"odoo.addons.{ADDON}", level="DEBUG"),
                ):
                    self.assertFalse(self.company.nexudus_password)
                    self.assertFalse(self.company.qbo_client_secret)
                    self.assertFalse(any(self.tokens.mapped("refresh_token") + self.tokens.mapped("access_token")))
                    self.assertEqual(self.company.qbo_state, "needs_reconnect")
                    settings = self.env["res.config.settings"].create({})
                    self.assertEqual(settings.qbo_state, "needs_reconnect")
                with self.assertRaisesRegex(UserError, "Nexudus password stored for .* cannot be read.*enter"):
                    self.company._nexudus_client()
                with self.assertRaisesRegex(UserError, "QuickBooks client secret stored for .* cannot be read"):
                    self.company._qbo_oauth()
                qbo = self.tokens.filtered(lambda t: t.service == "qbo")
                with (
                    self.enter_registry_test_mode(),
                    self.assertRaisesRegex(UserError, "QuickBooks connection stored .* Connect with QuickBooks again"),
                ):
                    qbo._qbo_access_token(self.company, None)
                self.assertTrue(self._column(self.company, "nexudus_password_encrypted"), "nothing was erased")

    def test_saving_a_secret_without_a_key_is_refused_with_what_to_configure(self):
        with configured_keys(""):
            with self.assertRaisesRegex(UserError, f"(?s)Fernet.generate_key.*{CONFIG_OPTION} = <that key>.*options"):
                self.env["res.config.settings"].create({"nexudus_password": "typed-in"}).execute()  # Save
            with self.assertRaisesRegex(UserError, ENVIRONMENT_VARIABLE):
                self.company.qbo_client_secret = "typed-in"
            self.company.write({"nexudus_password": False, "qbo_client_secret": False})  # forgetting needs no key
        self.assertFalse(self._column(self.company, "nexudus_password_encrypted"))
        self.assertFalse(self._column(self.company, "qbo_client_secret_encrypted"))

    def test_the_configuration_file_key_comes_before_the_environment(self):
        from_file, from_environment = new_key(), new_key()
        with configured_keys(from_file, environment=from_environment):
            self.company.nexudus_password = "from-file"
            self.assertEqual(
                encryption.decrypt(from_file, self._column(self.company, "nexudus_password_encrypted")), "from-file"
            )
        with configured_keys("", environment=from_environment):
            self.company.nexudus_password = "from-environment"
            stored = self._column(self.company, "nexudus_password_encrypted")
            self.assertEqual(encryption.decrypt(from_environment, stored), "from-environment")

    def test_neutralize_blanks_the_encrypted_columns(self):
        queries = list(get_neutralization_queries([ADDON]))
        self.env.flush_all()
        self.env.cr.execute(queries[0])
        for column in ("nexudus_password_encrypted", "qbo_client_secret_encrypted"):
            self.assertIsNone(self._column(self.company, column))
        for token in self.tokens:
            for column in ("access_token_encrypted", "refresh_token_encrypted"):
                self.assertIsNone(self._column(token, column))
        self.env.invalidate_all()
        self.assertEqual(self.company.qbo_state, "needs_reconnect")

    def test_the_encrypted_columns_are_for_settings_administrators_only(self):
        manager = new_test_user(self.env, login="nqc_secret_manager", groups=f"{ADDON}.group_nexudus_qbo_manager")
        for field in ("nexudus_password_encrypted", "qbo_client_secret_encrypted"):
            with self.assertRaises(AccessError):
                self.env.company.with_user(manager).read([field])
        with self.assertRaises(AccessError):
            self.tokens.with_user(manager).read(["refresh_token_encrypted"])

    def test_an_update_encrypts_every_stored_secret_under_the_newest_key(self):
        new = new_key()
        with configured_keys(f"{new},{self.key}"):
            for model in ("res.company", "nexudus.qbo.token"):
                encrypt_at_rest(self.env[model])
            self.env.invalidate_all()
            self.assertEqual(self.company.nexudus_password, "secret")
            self.assertEqual(self.company.qbo_state, "connected")
        for record, column in (
            (self.company, "nexudus_password_encrypted"),
            (self.company, "qbo_client_secret_encrypted"),
            *(
                (token, column)
                for token in self.tokens
                for column in ("access_token_encrypted", "refresh_token_encrypted")
            ),
        ):
            stored = self._column(record, column)
            self.assertTrue(encryption.decrypt(new, stored), column)
            self.assertIsNone(encryption.decrypt(self.key, stored), f"{column}: the old key can be removed")

    def test_an_update_encrypts_the_clear_columns_of_an_earlier_version_and_drops_them(self):
        self.env.flush_all()
        self.env.cr.execute("ALTER TABLE res_company ADD COLUMN nexudus_password varchar")
        self.env.cr.execute(
            "UPDATE res_company SET nexudus_password = 'from-before', nexudus_password_encrypted = NULL"
        )
        encrypt_at_rest(self.env["res.company"])
        self.assertFalse(column_exists(self.env.cr, "res_company", "nexudus_password"), "the clear column is gone")
        self.env.invalidate_all()
        self.assertEqual(self.company.nexudus_password, "from-before")
