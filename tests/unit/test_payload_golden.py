"""The QuickBooks bodies on the wire stay byte for byte what the hand-written dict builders sent before the
bodies were built from python-quickbooks objects: digests of every seeded world's invoice, of tax-inclusive
and rounding cases, and of payments, recorded from those builders (``python3 tests/unit/test_payload_golden.py``
rewrites them; only do that on purpose)."""

import hashlib
import json
import random
import sys
from decimal import Decimal
from pathlib import Path

if __name__ == "__main__":  # rewriting the digests: load the tools as the tests do
    sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).parent)]
    import conftest  # noqa: F401

from nqc_tools.http_client import wire_json
from nqc_tools.invoice_payload import PayloadError, Target, TaxTarget, build
from nqc_tools.payment_payload import credit_application, qbo_payment_document
from nqc_tools.qbo_objects import to_body
from seeded import line_amounts, seeded_invoices

D = Decimal
GOLDEN = Path(__file__).parent / "golden" / "payload_digests.json"
RATED = {
    ("20.0% S", D("20.0000")): TaxTarget("tc-20", ["tr-20"], percent=D("20")),
    ("5.0% R", D("5.0000")): TaxTarget("tc-5", ["tr-5"], percent=D("5")),
    ("No VAT", D("0.0000")): TaxTarget("tc-0", ["tr-0"], percent=D("0")),
}


def qbo_payment(entry, amount, **kw):
    """The wire body of a QuickBooks Payment, as the connector sends it."""
    return to_body(qbo_payment_document(entry, amount, **kw))


def digest(*parts):
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:20]


def payload_digest(payload):
    return digest(payload.entity, wire_json(payload.body), str(payload.total), payload.doc_number, payload.marker)


def world_cases(profile, multicurrency):
    data, target = seeded_invoices(profile, multicurrency=multicurrency, use_invoice_period=multicurrency)
    for record in data.coworkerinvoices.values():
        yield str(record["Id"]), record, data.lines_of(record["Id"]), target


def priced_cases(count=300, seed=11):
    """Invoices whose lines include tax or not, with discounts: the cases that add rounding lines."""
    rng = random.Random(seed)
    for case in range(count):
        inclusive = rng.random() < 0.5
        lines = []
        for position in range(1, rng.randint(1, 8) + 1):
            unit_price = rng.choice([D("199.99"), D("17.95"), D("12.50"), D("1.67"), D("0.99"), D("333.33")])
            quantity = rng.randint(1, 7)
            name, rate = rng.choice([("20.0% S", D("20")), ("5.0% R", D("5")), ("No VAT", D("0"))])
            discount = min(rng.choice([D("0.00"), D("0.00"), D("1.00"), D("2.35")]), unit_price * quantity)
            subtotal, tax = line_amounts(unit_price, quantity, rate, discount, inclusive)
            lines.append(
                {
                    "Id": position,
                    "Position": position,
                    "Description": f"Line {position}",
                    "Quantity": quantity,
                    "UnitPrice": unit_price,
                    "SubTotal": subtotal,
                    "TaxAmount": tax,
                    "DiscountAmount": discount,
                    "DiscountCode": "SPRING" if discount else None,
                    "TaxRate": rate,
                    "TaxCategoryName": name,
                    "FinancialAccountCode": "DESK-01",
                }
            )
        net = sum((ln["SubTotal"] - (D(0) if inclusive else ln["DiscountAmount"]) for ln in lines), D(0))
        total = net + sum((ln["TaxAmount"] for ln in lines), D(0))
        credit = case % 7 == 0
        sign = -1 if credit else 1
        if credit:
            for ln in lines:
                ln["SubTotal"], ln["TaxAmount"] = -ln["SubTotal"], -ln["TaxAmount"]
        record = {
            "Id": 70000 + case,
            "InvoiceNumber": f"PR-{case:05d}" + ("-WITH-A-VERY-LONG-SUFFIX" if case % 5 == 0 else ""),
            "BusinessName": "Priced",
            "CreatedOn": "2026-03-31T23:30:00Z",
            "DueDate": "2026-04-14T23:30:00Z",
            "TotalAmount": sign * total,
            "CurrencyCode": "GBP",
            "CreditNote": credit,
        }
        target = Target(
            customer_id="58",
            items={"DESK-01": "item-1"},
            taxes=RATED,
            default_tax=RATED[("No VAT", D("0.0000"))],
            prices_include_tax=inclusive,
            time_zone="Europe/London",
            custom_txn_numbers=case % 3 != 0,
        )
        yield str(record["Id"]), record, lines, target


def payment_bodies():
    entry = {"Id": 9001, "CoworkerInvoiceInvoiceNumber": "LON-0001", "TransactionDateLocal": "2026-04-02T10:00:00"}
    yield "plain", qbo_payment(entry, D("144.00"), invoice_id="130", customer_id="58")
    yield (
        "full",
        qbo_payment(
            entry | {"TransactionDateLocal": None, "TransactionDate": "2026-04-01T23:00:00Z"},
            D("12.34"),
            invoice_id="131",
            customer_id="59",
            deposit_account_id="35",
            method_id="2",
            currency="EUR",
        ),
    )
    yield "no date", qbo_payment({"Id": 9002}, D("0.10"), invoice_id="1", customer_id="2")
    yield (
        "credit",
        credit_application(
            entry,
            D("50.00"),
            invoice=("130", "LON-0001"),
            memo=("140", "LON-CN-1"),
            customer_ref={"value": "58", "name": "A"},
        ),
    )
    yield (
        "credit currency",
        credit_application(
            {"Id": 9003},
            D("7.5"),
            invoice=("130", "LON-0001"),
            memo=("140", "LON-CN-1"),
            customer_ref={"value": "58"},
            currency_ref={"value": "EUR", "name": "Euro"},
        ),
    )


def digests():
    found = {}
    groups = {f"{p}{'-mc' if mc else ''}": world_cases(p, mc) for p in ("uk", "us") for mc in (False, True)}
    groups["priced"] = priced_cases()
    for group, cases in groups.items():
        for key, record, lines, target in cases:
            try:
                found[f"{group}:{key}"] = payload_digest(build(record, lines, target))
            except PayloadError as exc:
                found[f"{group}:{key}"] = digest("refused", *exc.problems)
    for key, body in payment_bodies():
        found[f"payment:{key}"] = digest(wire_json(body))
    return found


def test_bodies_are_byte_for_byte_as_before():
    expected = json.loads(GOLDEN.read_text())
    found = digests()
    assert len(found) == len(expected) > 1200
    different = sorted(key for key in expected if found.get(key) != expected[key])
    assert not different, f"{len(different)} bodies changed, e.g. {different[:5]}"


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(digests(), indent=0, sort_keys=True) + "\n")
    print(f"{GOLDEN}: {len(json.loads(GOLDEN.read_text()))} digests")
