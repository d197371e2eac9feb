"""Token life in QuickBooks: refresh before expiry, rotation kept through rollbacks, one refresh at a
time, and invalid_grant ending in "needs reconnect"."""

import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.nexudus_qbo_connector.tools.errors import InvalidGrantError

from .common import CommittedServicesCase, ConnectorCase, connect_qbo

ACCOUNTING = "com.intuit.quickbooks.accounting"


@tagged("standard", "post_install", "-at_install")
class TestQboTokensInTestMode(ConnectorCase):
    def setUp(self):
        super().setUp()
        connect_qbo(self)
        self.token = self.env["nexudus.qbo.token"]._get(self.env.company, "qbo")

    def test_connected_company_calls_quickbooks_without_refreshing(self):
        calls = self.qbo.token_calls
        with self.enter_registry_test_mode():
            info = self.env.company._qbo_client().company_info()
        self.assertEqual(info["CompanyName"], "Bridge Coworking Ltd")
        self.assertEqual(self.qbo.token_calls, calls)

    def test_access_token_is_refreshed_before_it_expires(self):
        self.token.access_expires_at = fields.Datetime.now() + timedelta(minutes=2)
        old_refresh = self.token.refresh_token
        with self.enter_registry_test_mode():
            self.env.company._qbo_client().company_info()
        self.assertEqual(self.qbo.token_grants[-1], "refresh_token")
        self.assertNotEqual(self.token.refresh_token, old_refresh)
        self.assertGreater(self.token.access_expires_at, fields.Datetime.now() + timedelta(minutes=50))

    def test_an_access_token_refused_by_quickbooks_is_refreshed_once(self):
        self.qbo.clock_offset = 3700  # QuickBooks thinks the hour is over; Odoo does not know yet
        try:
            with self.enter_registry_test_mode():
                info = self.env.company._qbo_client().company_info()
        finally:
            self.qbo.clock_offset = 0
        self.assertEqual(info["Country"], "GB")
        self.assertEqual(self.qbo.token_grants[-2:], ["authorization_code", "refresh_token"])

    def test_invalid_grant_needs_reconnect_tells_admins_and_stops_calling(self):
        self.token.refresh_token = "revoked-or-expired"
        self.token.access_expires_at = fields.Datetime.now()
        with self.enter_registry_test_mode(), self.assertRaisesRegex(UserError, "Reconnect"):
            self.env.company._qbo_client()
        self.assertEqual(self.env.company.qbo_state, "needs_reconnect")
        self.assertFalse(self.token.refresh_token)
        admin = self.env.ref("base.user_admin")
        activity = self.token.activity_ids.filtered(lambda a: a.user_id == admin)
        self.assertIn("Reconnect", activity.summary)
        self.assertIn("Connect with QuickBooks", self.token.message_ids[0].body)
        calls = self.qbo.token_calls
        for _attempt in range(3):
            with self.enter_registry_test_mode(), self.assertRaisesRegex(UserError, "not connected"):
                self.env.company._qbo_client()
        self.assertEqual(self.qbo.token_calls, calls, "no retry loop after invalid_grant")

    def test_disconnect_revokes_at_intuit(self):
        refresh = self.token.refresh_token
        with self.enter_registry_test_mode():
            settings = self.env["res.config.settings"].create({})
            settings.action_qbo_disconnect()
        self.assertEqual(self.env.company.qbo_state, "not_connected")
        self.assertFalse(self.env.company.qbo_realm_id)
        oauth = self.env.company._qbo_oauth()
        with self.assertRaises(InvalidGrantError, msg="the revoked refresh token no longer works"):
            oauth.refresh(refresh)


@tagged("standard", "post_install", "-at_install")
class TestQboTokensAcrossTransactions(CommittedServicesCase):
    """Real, separate transactions, as in production: the connection is committed and removed again."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = self.committed_env(cr)
            env["res.users"].search([], limit=1)  # as in a web request, the transaction's snapshot is taken
            company = env["res.company"].browse(self.company_id)
            self.oauth = company._qbo_oauth()
            redirect = self.qbo.authorize("sim-client-id", self.oauth.redirect_uri, "s", ACCOUNTING)
            query = parse_qs(urlsplit(redirect).query)
            company._qbo_finish_connect(query["code"][0], query["realmId"][0])
        self.addCleanup(self._disconnect)
        self.first_refresh = self._committed_token()[1]

    def _disconnect(self):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM nexudus_qbo_token WHERE company_id = %s", (self.company_id,))

    def _committed_token(self):
        with self.registry.cursor() as cr:
            token = self.committed_env(cr)["nexudus.qbo.token"].search(
                [("company_id", "=", self.company_id), ("service", "=", "qbo")]
            )
            return token.access_token, token.refresh_token

    def test_connecting_in_one_transaction_records_the_company(self):
        with self.registry.cursor() as cr:
            company = self.committed_env(cr)["res.company"].browse(self.company_id)
            self.assertEqual(company.qbo_state, "connected")
            self.assertEqual(company.qbo_company_name, "Bridge Coworking Ltd")
            self.assertEqual(company.qbo_country, "GB")

    def test_rotated_refresh_token_survives_a_rollback_of_the_caller(self):
        with self.registry.cursor() as cr:
            env = self.committed_env(cr)
            marker = env["res.partner"].create({"name": "Work that will be rolled back"})
            company = env["res.company"].browse(self.company_id)
            stale = self._committed_token()[0]
            env["nexudus.qbo.token"]._qbo_access_token(company, self.oauth, stale=stale)
            cr.rollback()
            self.assertFalse(env["res.partner"].search([("id", "=", marker.id)]))
        _access, refresh = self._committed_token()
        self.assertNotEqual(refresh, self.first_refresh, "the rotated refresh token was kept")
        self.oauth.refresh(refresh)  # and QuickBooks accepts it

    def test_concurrent_refreshes_make_one_token_call(self):
        slow = SlowRefresh(self.oauth)
        stale, _refresh = self._committed_token()
        barrier = threading.Barrier(2)
        results, errors = [], []

        def worker():
            try:
                with self.registry.cursor() as cr:
                    env = self.committed_env(cr)
                    env["res.partner"].search([], limit=1)  # the transaction's snapshot starts here
                    barrier.wait()
                    company = env["res.company"].browse(self.company_id)
                    results.append(env["nexudus.qbo.token"]._qbo_access_token(company, slow, stale=stale))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual(errors, [])
        self.assertEqual(slow.calls, 1, "one refresh call for two workers")
        self.assertEqual(len(set(results)), 1)
        self.assertEqual(results[0], self._committed_token()[0])


class SlowRefresh:
    """Wraps the OAuth client so a refresh takes long enough for the other worker to queue behind it."""

    def __init__(self, oauth):
        self.oauth = oauth
        self.calls = 0

    def refresh(self, refresh_token):
        self.calls += 1
        time.sleep(0.5)
        return self.oauth.refresh(refresh_token)
