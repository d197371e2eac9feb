"""Every invoice of a location exact in QuickBooks, prices tax included or not, whichever way Nexudus stores
the lines and QuickBooks reads a tax-inclusive document, and whether QuickBooks keeps the stated tax."""

from collections import defaultdict
from decimal import Decimal

from odoo.tests import TransactionCase, tagged

from simulators.nexudus.server import NexudusSimulator
from simulators.qbo.server import QboSimulator
from simulators.world import build_world

from .common import ADDON, point_company_at
from .test_invoice_cron import CronMixin
from .transfer_common import complete_mappings, money, prepare_transfers

CENT = Decimal("0.01")
# London Bridge prices before tax, Manchester Works tax included; rates 20%, 5%, 0% and exempt, discounts,
# quantities and prices in odd pence; about 220 invoices a location.
WORLD = {
    "seed": 17, "profile": "uk", "locations": 2, "customers": 60, "invoices": 440, "credit_notes": 10, "payments": 0
}  # fmt: skip


@tagged("standard", "post_install", "-at_install")
class TestPricesTaxIncludedOrNot(CronMixin, TransactionCase):
    test_module = ADDON

    def transfer(self, location, nexudus_reading="gross_unit_price", qbo_reading="net", honour=True):
        world = build_world(**WORLD)
        self.nexudus = NexudusSimulator(world, inclusive_reading=nexudus_reading).start()
        self.addCleanup(self.nexudus.stop)
        self.qbo = QboSimulator(world, inclusive_reading=qbo_reading).start()
        self.addCleanup(self.qbo.stop)
        self.qbo.honour_tax_override = honour
        point_company_at(self.env, self.nexudus, self.qbo)
        company = prepare_transfers(self)
        complete_mappings(self)
        served = company.nexudus_location_ids.filtered(lambda loc: loc.name == location)
        company.write({"nexudus_location_ids": [(6, 0, served.ids)], "nexudus_qbo_auto_send_invoices": True})
        invoices = self.run_cron()
        self.assertGreaterEqual(len(invoices), 200)
        failed = invoices.filtered(lambda r: r.transfer_state not in ("sent", "skipped"))
        self.assertFalse(failed, failed.mapped("transfer_reason"))
        for row in invoices.filtered(lambda r: r.transfer_state == "skipped"):
            self.assertRegex(row.transfer_reason, "Draft|Voided|mappings|own QuickBooks integration")
        return served, invoices.filtered(lambda r: r.transfer_state == "sent")

    def documents(self):
        rows = {}
        for entity in ("Invoice", "CreditMemo"):
            for row in self.qbo.company.table(entity).rows.values():
                rows[int(row["PrivateNote"].split("[nexudus-invoice ")[1].split("]")[0])] = row
        return rows

    def assert_exact(self, sent, inclusive):
        """Totals to the cent; per item and per tax code, the gross (tax included) or the net (before tax)
        of the QuickBooks lines as Nexudus has it — within a cent a line, and the two cents a rounding line
        may take."""
        documents = self.documents()
        for row in sent:
            record = self.nexudus.data.coworkerinvoices[row.nexudus_id]
            document = documents[row.nexudus_id]
            self.assertEqual(money(document["TotalAmt"]), abs(money(record["TotalAmount"])), row.number)
            lines = sorted(
                (
                    line
                    for line in self.nexudus.data.coworkerinvoicelines.values()
                    if line["CoworkerInvoiceId"] == row.nexudus_id
                ),
                key=lambda line: (line["Position"], line["Id"]),
            )
            counted = [
                ln
                for ln in document["Line"]
                if ln.get("DetailType") == "SalesItemLineDetail"
                and not ln.get("Description", "").startswith("Rounding")
            ]
            self.assertEqual(len(counted), len(lines), row.number)
            self.assertEqual(document["GlobalTaxCalculation"], "TaxInclusive" if inclusive else "TaxExcluded")
            ours, theirs = defaultdict(Decimal), defaultdict(Decimal)  # per (item, tax code)
            for nexudus_line, line in zip(lines, counted, strict=True):
                detail = line["SalesItemLineDetail"]
                key = (detail["ItemRef"]["value"], detail["TaxCodeRef"]["value"])
                amount = nexudus_line["SubTotal"] + (
                    nexudus_line["TaxAmount"] if inclusive else -nexudus_line["DiscountAmount"]
                )
                ours[key] += abs(money(amount))
                theirs[key] += money(detail["TaxInclusiveAmt"] if inclusive else line["Amount"])
            # A rounding line (a cent or two at 0%) takes what QuickBooks' per-rate rounding cannot reach.
            slack = 2 * CENT + (0 if inclusive else CENT * len(lines))
            for key, expected in ours.items():
                self.assertLessEqual(abs(expected - theirs[key]), slack, (row.number, key, expected, theirs[key]))

    def test_tax_included_quickbooks_reading_net(self):
        location, sent = self.transfer("Manchester Works")
        self.assertTrue(location.prices_include_tax)
        self.assertEqual(location.prices_include_tax_source, f"Detected ({location.inclusive_invoices} invoices)")
        self.assert_exact(sent, inclusive=True)

    def test_tax_included_quickbooks_reading_gross(self):
        _location, sent = self.transfer("Manchester Works", qbo_reading="gross")
        self.assert_exact(sent, inclusive=True)

    def test_tax_included_quickbooks_ignoring_the_stated_tax(self):
        _location, sent = self.transfer("Manchester Works", honour=False)
        self.assert_exact(sent, inclusive=True)

    def test_tax_included_entered_but_lines_stored_net(self):
        location, sent = self.transfer("Manchester Works", nexudus_reading="net_lines", honour=False)
        self.assertFalse(location.prices_include_tax, "its lines read as prices before tax")
        self.assert_exact(sent, inclusive=False)

    def test_prices_before_tax_quickbooks_ignoring_the_stated_tax(self):
        location, sent = self.transfer("London Bridge", honour=False)
        self.assertFalse(location.prices_include_tax)
        self.assert_exact(sent, inclusive=False)

    def test_a_manager_sets_it_by_hand_and_nothing_overwrites_it(self):
        location, _sent = self.transfer("London Bridge")
        location.prices_include_tax = True
        self.assertEqual(location.prices_include_tax_source, "Set by hand")
        self.nexudus.touch_invoice(
            next(i for i, r in self.nexudus.data.coworkerinvoices.items() if r["BusinessId"] == location.nexudus_id)
        )
        self.run_cron()
        self.assertTrue(location.prices_include_tax)
