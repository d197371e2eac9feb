"""The Nexudus sign-in dialog: each click signs in afresh (one token request), each refusal gets its own
plain message in the dialog, and the stored sign-in changes only when a sign-in succeeds."""

from odoo.tests import tagged

from simulators.nexudus.server import NexudusSimulator

from .common import ADDON, ConnectorCase, sign_in_nexudus

SIGNED_IN = ("access_token", "refresh_token", "access_expires_at")


@tagged("standard", "post_install", "-at_install")
class TestNexudusSignin(ConnectorCase):
    def _tokens(self):
        token = self.env["nexudus.qbo.token"]._get(self.env.company, "nexudus")
        return tuple(token[field] for field in SIGNED_IN) if token else None

    def _credentials(self):
        company = self.env.company.sudo()
        return company.nexudus_email, company.nexudus_password

    def _sign_in(self, **typed):
        """Sign in through the dialog; return the dialog, the action and how many token requests it made."""
        mark = len(self.nexudus.request_log)
        dialog, action = sign_in_nexudus(self, **typed)
        requests = [r for r in self.nexudus.request_log[mark:] if r[1] == "/api/token"]
        return dialog, action, len(requests)

    def _assert_refused(self, dialog, action, requests, message, step="credentials"):
        """The dialog stays open on the same record, saying ``message``; nothing stored changed."""
        self.assertEqual(requests, 1)
        self.assertEqual(
            (action["res_model"], action["res_id"], action["target"]), ("nexudus.qbo.signin", dialog.id, "new")
        )
        self.assertEqual(dialog.step, step)
        self.assertIn(message, dialog.message)
        self.assertEqual(self._tokens(), self.before_tokens)
        self.assertEqual(self._credentials(), ("admin@example.com", "secret"))

    def setUp(self):
        super().setUp()
        sign_in_nexudus(self)  # a working sign-in is stored; the refusals below must leave it alone
        self.before_tokens = self._tokens()
        self.assertTrue(self.before_tokens[0])

    def test_wrong_password(self):
        self._assert_refused(
            *self._sign_in(password="not-the-password"),
            "Nexudus did not accept the email admin@example.com with this password. Nexudus says: “The user name "
            "or password is incorrect.” Check the email and the password",
        )

    def test_unknown_user_when_nexudus_answers_as_for_a_wrong_password(self):
        self._assert_refused(
            *self._sign_in(email="nobody@example.com", password="secret"),
            "Nexudus did not accept the email nobody@example.com with this password. Nexudus says: “The user name "
            "or password is incorrect.”",
        )

    def test_unknown_user_when_nexudus_says_the_email_is_unknown(self):
        distinct = NexudusSimulator(self.world, sign_in_errors="distinct").start()
        self.addCleanup(distinct.stop)
        self.env["ir.config_parameter"].sudo().set_param(f"{ADDON}.nexudus_api_url", distinct.url)
        dialog, action = sign_in_nexudus(self, email="nobody@example.com", password="secret")
        requests = sum(1 for r in distinct.request_log if r[1] == "/api/token")
        self._assert_refused(dialog, action, requests, "Nexudus says: “There is no user with this email address.”")
        dialog, action = sign_in_nexudus(self, password="not-the-password")
        self.assertIn("Nexudus says: “The user name or password is incorrect.”", dialog.message)

    def test_two_factor_code_is_asked_for_then_used(self):
        dialog, action, requests = self._sign_in(email="2fa@example.com", password="secret")
        self._assert_refused(dialog, action, requests, "two-factor code: type the current code", step="totp")
        dialog.write({"totp": "123456"})
        mark = len(self.nexudus.request_log)
        with self.enter_registry_test_mode():
            action = dialog.action_sign_in()
        self.assertEqual(sum(1 for r in self.nexudus.request_log[mark:] if r[1] == "/api/token"), 1)
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("Signed in as 2fa@example.com", action["params"]["message"])
        self.assertEqual(self._credentials(), ("2fa@example.com", "secret"))
        self.assertEqual(self.nexudus.access_tokens[self._tokens()[0]][0], 3)  # the 2FA user's token

    def test_wrong_two_factor_code(self):
        dialog, _action, _requests = self._sign_in(email="2fa@example.com", password="secret")
        dialog.write({"totp": "000000"})
        mark = len(self.nexudus.request_log)
        with self.enter_registry_test_mode():
            action = dialog.action_sign_in()
        requests = sum(1 for r in self.nexudus.request_log[mark:] if r[1] == "/api/token")
        self._assert_refused(
            dialog,
            action,
            requests,
            "Nexudus did not accept the sign-in with this two-factor code. Nexudus says: “The two-factor "
            "authentication code is incorrect.”",
            step="totp",
        )
        self.assertFalse(dialog.totp)

    def test_user_without_api_access(self):
        self._assert_refused(
            *self._sign_in(email="noapi@example.com", password="secret"),
            "turn on API access for noapi@example.com in Nexudus › Settings › Users",
        )

    def test_a_second_user_replaces_the_first(self):
        dialog, action, requests = self._sign_in(email="2fa@example.com", password="secret")
        dialog.write({"totp": "123456"})
        with self.enter_registry_test_mode():
            dialog.action_sign_in()
        self.assertEqual(self.nexudus.access_tokens[self._tokens()[0]][0], 3)
        _dialog, action, requests = self._sign_in(email="admin@example.com", password="secret")
        self.assertEqual((action["params"]["type"], requests), ("success", 1))
        self.assertEqual(self._credentials(), ("admin@example.com", "secret"))
        self.assertEqual(self.nexudus.access_tokens[self._tokens()[0]][0], 1)

    def test_changing_the_email_or_password_drops_the_stored_tokens(self):
        company = self.env.company.sudo()
        with self.enter_registry_test_mode():
            company.write({"nexudus_email": "admin@example.com", "nexudus_password": "secret"})  # no change
        self.assertEqual(self._tokens(), self.before_tokens)
        with self.enter_registry_test_mode():
            company.write({"nexudus_password": "new-secret"})
        self.assertIsNone(self._tokens())
        sign_in_nexudus(self, password="secret")
        self.assertTrue(self._tokens())
        with self.enter_registry_test_mode():
            self.env["res.config.settings"].create({"nexudus_email": "finance@example.com"}).execute()
        self.assertIsNone(self._tokens())

    def test_the_dialog_opens_empty_before_any_sign_in(self):
        with self.enter_registry_test_mode():
            self.env.company.sudo().write({"nexudus_email": False, "nexudus_password": False})
        action = self.env["res.config.settings"].create({}).action_nexudus_test_connection()
        dialog = self.env["nexudus.qbo.signin"].browse(action["res_id"])
        self.assertEqual((dialog.email, dialog.password, dialog.step), (False, False, "credentials"))

    def test_the_stored_password_stays_out_of_the_dialog_and_signs_in_when_none_is_typed(self):
        dialog, action = sign_in_nexudus(self)
        self.assertEqual(action["params"]["type"], "success")
        self.assertTrue(dialog.has_stored_password)
        self.assertFalse(dialog.password)
        self.env.cr.execute("SELECT count(*) FROM nexudus_qbo_signin WHERE password IS NOT NULL")
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        dialog, _action = sign_in_nexudus(self, email="2fa@example.com")
        self.assertEqual(dialog.message, "Type the Nexudus password of 2fa@example.com.")

    def test_settings_have_no_two_factor_field(self):
        self.assertNotIn("nexudus_totp", self.env["res.config.settings"]._fields)
