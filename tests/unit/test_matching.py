"""The matching rules (exact name and code, exact name and rate) and QuickBooks name hygiene."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from nqc_tools.matching import (
    AMBIGUOUS,
    MATCHED,
    UNMATCHED,
    bills_a_company,
    clean_name,
    customer_marker,
    customer_name,
    disambiguated_name,
    legacy_disambiguated_name,
    marked_coworker,
    match_account,
    match_tax,
    percent,
    rate,
)

ACCOUNTS = [
    {"Id": "1", "Name": "Membership Revenue", "AcctNum": "MEM-001"},
    {"Id": "2", "Name": "Event Revenue", "AcctNum": "evt-001"},
    {"Id": "3", "Name": "Hot Desk Income", "AcctNum": "DESK-01"},
    {"Id": "4", "Name": "Twin", "AcctNum": "TW-1"},
    {"Id": "5", "Name": "Twin", "AcctNum": "TW-1"},
]
CODES = [
    {"Id": "10", "Name": "20.0% S", "rate": 20.0},
    {"Id": "11", "Name": "Zero-rated", "rate": 0},
    {"Id": "12", "Name": "NY Sales Tax", "rate": 8.875},
]


def test_account_matches_only_on_exact_name_and_code():
    assert match_account("MEM-001", "Membership Revenue", ACCOUNTS) == (MATCHED, "1", "")


def test_account_code_differing_by_case_is_unmatched_with_both_codes():
    assert match_account("EVT-001", "Event Revenue", ACCOUNTS) == (UNMATCHED, None, "code differs: EVT-001 vs evt-001")


def test_account_name_differing_is_unmatched_with_both_names():
    state, qbo_id, reason = match_account("DESK-01", "Hot Desk Revenue", ACCOUNTS)
    assert (state, qbo_id) == (UNMATCHED, None)
    assert reason == "name differs: “Hot Desk Revenue” vs “Hot Desk Income”"


def test_missing_and_ambiguous_accounts_are_reported_not_guessed():
    assert match_account("PRD-001", "Product Sales", ACCOUNTS)[0] == UNMATCHED
    assert (
        "no QuickBooks account is named “Product Sales” with number PRD-001"
        in match_account("PRD-001", "Product Sales", ACCOUNTS)[2]
    )
    state, qbo_id, reason = match_account("TW-1", "Twin", ACCOUNTS)
    assert (state, qbo_id) == (AMBIGUOUS, None)
    assert reason.startswith("2 QuickBooks accounts")


def test_tax_matches_only_on_exact_name_and_rate():
    assert match_tax("20.0% S", Decimal("20"), CODES) == (MATCHED, "10", "")
    assert match_tax("NY Sales Tax", 8.875, CODES) == (MATCHED, "12", "")
    assert match_tax("Zero-rated", 5, CODES) == (UNMATCHED, None, "rate differs: 5% vs 0%")
    assert match_tax("Reduced", 5, CODES) == (UNMATCHED, None, "no QuickBooks tax code is named “Reduced”")


def test_rates_compare_exactly_whatever_their_number_type():
    assert rate(8.875) == rate("8.8750") == rate(Decimal("8.875"))
    assert rate(7.5) != rate(7.25)
    assert percent(20) == "20%"
    assert percent("8.8750") == "8.875%"


def test_names_lose_what_quickbooks_refuses():
    assert clean_name("Acme: Studio\tOne\nLtd") == "Acme - Studio - One - Ltd"
    assert clean_name("  Spaced    out  ") == "Spaced out"
    assert len(clean_name("x" * 300)) == 100


def test_customer_name_is_the_billing_name_else_the_full_name():
    assert customer_name("Blue Fern Ltd", "Ada Byrne") == "Blue Fern Ltd"
    assert customer_name("", "Ada Byrne") == "Ada Byrne"
    assert customer_name(None, "Noor O'Brien") == "Noor O'Brien"


def test_disambiguated_name_is_deterministic_readable_and_fits():
    assert disambiguated_name("James Smith", 10094, "London Bridge") == "James Smith (London Bridge, 10094)"
    assert disambiguated_name("James Smith", 10094, "London Bridge") == disambiguated_name(
        "James Smith", 10094, "London Bridge"
    )
    assert disambiguated_name("Femi Fischer", 20003) == "Femi Fischer (Nexudus 20003)"
    assert disambiguated_name("Femi Fischer", 20003, " ") == "Femi Fischer (Nexudus 20003)"
    assert disambiguated_name("Ana", 7, "HQ: Floor 2") == "Ana (HQ - Floor 2, 7)"
    assert legacy_disambiguated_name("Femi Fischer", 20003) == "Femi Fischer (Nexudus 20003)"
    long = disambiguated_name("y" * 200, 123456, "z" * 200)
    assert len(long) <= 100 and long.endswith(", 123456)")


def test_only_a_billing_name_that_is_a_company_is_shared():
    assert bills_a_company("Blue Fern Ltd", None, 2)  # a company
    assert bills_a_company("Blue Fern Ltd", "blue fern ltd", 1)  # a member billed to its company
    assert bills_a_company("Blue Fern Ltd", None, "Company")
    assert not bills_a_company(None, "Blue Fern Ltd", 2)  # no billing name: a contact per customer
    assert not bills_a_company("  ", "Blue Fern Ltd", 2)
    assert not bills_a_company("Ada Byrne", None, 1)  # an individual under a name of their own
    assert not bills_a_company("Ada Byrne", "Blue Fern Ltd", 1)
    assert not bills_a_company("Ada Byrne", None, None)


def test_the_customer_marker_names_whose_customer_it_is():
    assert marked_coworker(customer_marker(20003)) == 20003
    assert marked_coworker(f"Some note\n{customer_marker(17)}\nmore") == 17
    assert marked_coworker("Nexudus customer 12 and more") is None
    assert marked_coworker(None) is None


@given(st.text(max_size=300))
def test_clean_name_never_leaves_forbidden_characters(text):
    cleaned = clean_name(text)
    assert not set(cleaned) & {":", "\t", "\n", "\r"}
    assert len(cleaned) <= 100
    assert cleaned == cleaned.strip()
