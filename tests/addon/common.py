"""Shared set-up of the Odoo suite: both simulators running, the company pointed at them."""

import os
from urllib.parse import parse_qs, urlsplit

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase

from simulators.nexudus.server import NexudusSimulator
from simulators.qbo.server import QboSimulator
from simulators.world import build_world

ADDON = "nexudus_qbo_connector"

# oauthlib refuses plain HTTP unless told otherwise; the simulators speak HTTP on loopback.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")


def point_company_at(env, nexudus, qbo, company=None):
    """What the demo does too: endpoint system parameters, then the company's credentials."""
    params = env["ir.config_parameter"].sudo()
    for key, value in {
        "nexudus_api_url": nexudus.url,
        "qbo_api_url": qbo.url,
        "intuit_authorize_url": f"{qbo.url}/connect/oauth2",
        "intuit_token_url": f"{qbo.url}/oauth2/v1/tokens/bearer",
        "intuit_revoke_url": f"{qbo.url}/v2/oauth2/tokens/revoke",
    }.items():
        params.set_param(f"{ADDON}.{key}", value)
    (company or env.company).sudo().write(
        {
            "nexudus_email": "admin@example.com",
            "nexudus_password": "secret",
            "qbo_client_id": "sim-client-id",
            "qbo_client_secret": "sim-client-secret",
        }
    )


def start_services(world_sizes, add_cleanup):
    """Both simulators on loopback for one seeded world; ``add_cleanup`` stops them afterwards."""
    world = build_world(**world_sizes)
    nexudus = NexudusSimulator(world).start()
    add_cleanup(nexudus.stop)
    qbo = QboSimulator(world).start()
    add_cleanup(qbo.stop)
    return world, nexudus, qbo


class SimulatedServicesMixin:
    """Starts a Nexudus and a QuickBooks simulator on loopback for the test class."""

    test_module = ADDON  # these tests live outside odoo.addons.*, so Odoo cannot infer it
    world_sizes = {"seed": 7, "profile": "uk", "locations": 3, "customers": 12, "invoices": 30}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.world, cls.nexudus, cls.qbo = start_services(cls.world_sizes, cls.addClassCleanup)
        point_company_at(cls.env, cls.nexudus, cls.qbo)


class ConnectorCase(SimulatedServicesMixin, TransactionCase):
    """A TransactionCase with both simulators and the company configured."""


class FreshServicesCase(TransactionCase):
    """Like ConnectorCase, but with simulators of its own for each test: for tests that write to them."""

    test_module = ADDON
    world_sizes = SimulatedServicesMixin.world_sizes

    def setUp(self):
        super().setUp()
        self.world, self.nexudus, self.qbo = start_services(self.world_sizes, self.addCleanup)
        point_company_at(self.env, self.nexudus, self.qbo)


def sign_in_nexudus(case, **typed):
    """Click Test connection in Settings, type ``typed`` (email, password, totp) over the stored sign-in in
    its dialog and click Sign in; return the dialog and the action the click returned."""
    with case.enter_registry_test_mode():
        opened = case.env["res.config.settings"].create({}).action_nexudus_test_connection()
        dialog = case.env["nexudus.qbo.signin"].browse(opened["res_id"])
        dialog.write(typed)
        return dialog, dialog.action_sign_in()


def connect_qbo(case, company=None):
    """Connect ``company`` to the QuickBooks simulator as the callback would, without a browser."""
    company = company or case.env.company
    with case.enter_registry_test_mode():
        redirect_uri = company._qbo_oauth().redirect_uri
        redirect = case.qbo.authorize("sim-client-id", redirect_uri, "state", "com.intuit.quickbooks.accounting")
        query = parse_qs(urlsplit(redirect).query)
        company._qbo_finish_connect(query["code"][0], query["realmId"][0])
    return company


ENDPOINT_KEYS = ("nexudus_api_url", "qbo_api_url", "intuit_authorize_url", "intuit_token_url", "intuit_revoke_url")
CREDENTIAL_FIELDS = (
    "nexudus_email",
    "nexudus_password",
    "qbo_client_id",
    "qbo_client_secret",
    "qbo_realm_id",
    "qbo_company_name",
    "qbo_country",
    "qbo_oauth_nonce",
)


class CommittedServicesCase(TransactionCase):
    """For tests of real transaction boundaries, which the shared test cursor would hide.

    The set-up (endpoints, credentials) is committed and undone afterwards; tests open their own
    cursors with ``self.registry.cursor()``. The test's own cursor must write nothing these cursors
    touch, or they would wait on its locks.
    """

    test_module = ADDON
    world_sizes = {"seed": 11, "profile": "uk", "locations": 3, "customers": 6, "invoices": 5}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.world, cls.nexudus, cls.qbo = start_services(cls.world_sizes, cls.addClassCleanup)
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cls.company_id = env.company.id
            params = env["ir.config_parameter"]
            saved_params = {key: params.get_param(f"{ADDON}.{key}") for key in ENDPOINT_KEYS}
            saved_company = env.company.read(CREDENTIAL_FIELDS)[0]
            point_company_at(env, cls.nexudus, cls.qbo)
        cls.addClassCleanup(cls._undo_committed_setup, saved_params, saved_company)

    @classmethod
    def _undo_committed_setup(cls, saved_params, saved_company):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for key, value in saved_params.items():
                env["ir.config_parameter"].set_param(f"{ADDON}.{key}", value or False)
            env["res.company"].browse(cls.company_id).write({f: saved_company[f] for f in CREDENTIAL_FIELDS})
        with cls.registry.cursor() as cr:  # after that write, which may have dropped a token row in a cursor of its own
            cr.execute("DELETE FROM nexudus_qbo_token WHERE company_id = %s", (cls.company_id,))

    def committed_env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})
