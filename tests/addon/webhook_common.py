"""Shared set-up of the webhook tests: simulators of their own (one signing or format reading each), Odoo's
test server as the URL they post to, and the sync's scheduled triggers counted."""

from odoo.tests import HttpCase

from simulators.nexudus.server import NexudusSimulator
from simulators.qbo.server import QboSimulator
from simulators.world import build_world

from .common import ADDON, SimulatedServicesMixin, point_company_at

SYNC_CRON = f"{ADDON}.ir_cron_nexudus_qbo_sync"


class WebhookCase(HttpCase):
    test_module = ADDON
    nexudus_signing = "signed"
    qbo_format = "cloudevents"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.world = build_world(**SimulatedServicesMixin.world_sizes)
        cls.nexudus = NexudusSimulator(cls.world, webhook_signing=cls.nexudus_signing).start()
        cls.addClassCleanup(cls.nexudus.stop)
        cls.qbo = QboSimulator(cls.world, webhook_format=cls.qbo_format).start()
        cls.addClassCleanup(cls.qbo.stop)
        point_company_at(cls.env, cls.nexudus, cls.qbo)

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.company = self.env.company
        self.cron = self.env.ref(SYNC_CRON)

    def triggers(self):
        return self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", self.cron.id)])

    def post(self, path, body, headers=None):
        return self.url_open(path, data=body, headers={"Content-Type": "application/json", **(headers or {})})
