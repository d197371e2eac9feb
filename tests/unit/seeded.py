"""A seeded simulated Nexudus world's invoices and a QuickBooks target that maps all its accounts and rates."""

from decimal import Decimal

from nqc_tools.invoice_payload import Target, TaxTarget

from simulators.nexudus.data import NexudusData
from simulators.world import CHART, build_world


def seeded_invoices(profile, *, invoices=300, credit_notes=20, percent=True, **target):
    """``(data, target)``: the world of seed 3; each rate maps to a code of its own (with its ``percent``
    unless told not to), every account to an item; ``target`` overrides the Target's fields."""
    data = NexudusData.from_world(build_world(seed=3, profile=profile, invoices=invoices, credit_notes=credit_notes))
    taxes = {
        (tax["Name"], Decimal(str(tax["Rate"])).quantize(Decimal("0.0001"))): TaxTarget(
            f"tc-{tax['Name']}",
            [f"tr-{tax['Name']}"],
            us_taxable=bool(tax["Rate"]),
            percent=Decimal(str(tax["Rate"])) if percent else None,
        )
        for tax in data.taxrates.values()
    }
    base = {
        "customer_id": "1",
        "us": profile == "us",
        "items": {code: code for code, _n, _t in CHART},
        "taxes": taxes,
        "default_tax": TaxTarget("tc-none", []),
    }
    return data, Target(**(base | target))


def line_amounts(unit_price, quantity, rate, discount, inclusive):
    """``(SubTotal, TaxAmount)`` of a Nexudus line as Nexudus states them, prices with tax included or not."""
    gross = (unit_price * quantity).quantize(Decimal("0.01"))
    if inclusive:
        tax = ((gross - discount) * rate / (100 + rate)).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        return gross - discount - tax, tax
    return gross, ((gross - discount) * rate / 100).quantize(Decimal("0.01"), "ROUND_HALF_UP")
