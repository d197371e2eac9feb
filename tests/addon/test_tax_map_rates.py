from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import ConnectorCase, connect_qbo, sign_in_nexudus


@tagged("standard", "post_install", "-at_install")
class TestTaxMapRates(ConnectorCase):
    """A tax mapping cannot send lines under a QuickBooks code of another rate unless a manager says so."""

    def setUp(self):
        super().setUp()
        sign_in_nexudus(self)
        connect_qbo(self)
        self.company = self.env.company
        with self.enter_registry_test_mode():
            self.env["nexudus.qbo.tax.map"].action_refresh_lists()
        self.london = self.env["nexudus.qbo.location"].search([("name", "=", "London Bridge")])
        self.zero = self._tax_map("Zero-rated")  # 5% in Nexudus; QuickBooks' Zero-rated code is 0%
        self.zero_code = self._code("Zero-rated")
        self.reduced_code = self._code("5.0% R")

    def _tax_map(self, name):
        return self.env["nexudus.qbo.tax.map"].search(
            [("location_id", "=", self.london.id), ("nexudus_name", "=", name)]
        )

    def _code(self, name):
        return self.env["nexudus.qbo.tax.code"].search([("company_id", "=", self.company.id), ("name", "=", name)])

    def test_a_hand_mapping_at_another_rate_is_refused_with_both_rates_and_the_fix(self):
        with self.assertRaises(ValidationError) as caught, self.cr.savepoint():
            self.zero.qbo_tax_code_id = self.zero_code
        message = str(caught.exception)
        for part in ("“Zero-rated” is at 0%", "Nexudus charges 5%", "Pick a QuickBooks tax code at 5%",
                     "Rates differ on purpose"):  # fmt: skip
            self.assertIn(part, message)
        self.assertFalse(self.zero.qbo_tax_code_id)

    def test_accepted_when_the_difference_is_ticked_and_the_tick_stays_visible(self):
        self.zero.write({"qbo_tax_code_id": self.zero_code.id, "rate_difference_accepted": True})
        self.assertEqual((self.zero.match_state, self.zero.manual), ("manual", True))
        self.assertTrue(self.zero.rates_differ and self.zero.rate_difference_accepted and self.zero.ready)
        arch = self.zero.get_views([(False, "list")])["views"]["list"]["arch"]
        self.assertIn('name="rate_difference_accepted"', arch)
        self.assertEqual(
            self.zero.fields_get(["rate_difference_accepted"])["rate_difference_accepted"]["string"],
            "Rates differ on purpose",
        )
        # A refresh keeps it; untick it and the mapping is refused again.
        with self.enter_registry_test_mode():
            self.zero.action_refresh_lists()
        self.assertEqual((self.zero.qbo_tax_code_id, self.zero.rate_difference_accepted), (self.zero_code, True))
        with self.assertRaisesRegex(ValidationError, "Nexudus charges 5%"), self.cr.savepoint():
            self.zero.rate_difference_accepted = False

    def test_a_code_at_the_same_rate_needs_no_tick_and_drops_one(self):
        self.zero.write({"qbo_tax_code_id": self.zero_code.id, "rate_difference_accepted": True})
        self.zero.qbo_tax_code_id = self.reduced_code  # 5% too
        self.assertEqual(
            (self.zero.rates_differ, self.zero.rate_difference_accepted, self.zero.ready), (False, False, True)
        )

    def test_automatic_matching_never_maps_another_rate(self):
        maps = self.env["nexudus.qbo.tax.map"].search([("company_id", "=", self.company.id)])
        self.assertTrue(maps.filtered("qbo_tax_code_id"))
        self.assertFalse(maps.filtered("rates_differ"), "refresh matches only the exact rate")
        self.assertFalse(self.zero.qbo_tax_code_id)
        self.zero.write({"qbo_tax_code_id": self.zero_code.id, "rate_difference_accepted": True})
        self.zero.action_reset_to_automatic()
        self.assertEqual((self.zero.qbo_tax_code_id.id, self.zero.rate_difference_accepted, self.zero.manual),
                         (False, False, False))  # fmt: skip

    def test_a_hand_mapping_whose_quickbooks_rate_changes_is_held_with_why(self):
        self.zero.qbo_tax_code_id = self.reduced_code
        self.assertTrue(self.zero.ready)
        self.reduced_code.rate = 7.5  # as a refresh would read it
        self.assertFalse(self.zero.ready)
        maps = self.env["nexudus.qbo.tax.map"].search([("company_id", "=", self.company.id)])
        maps._auto_match(self.env["nexudus.qbo.tax.code"].search([("company_id", "=", self.company.id)]))
        self.assertEqual(self.zero.qbo_tax_code_id, self.reduced_code, "a hand-made choice stays")
        self.assertIn("QuickBooks now charges 7.5% under “5.0% R”, not 5%", self.zero.match_reason)
