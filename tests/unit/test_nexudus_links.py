from nqc_tools.nexudus_links import ADMIN_PANEL, invoice_url, is_valid_template


def test_the_company_address_takes_the_invoice_id():
    assert invoice_url("https://dashboard.nexudus.com/x/{id}", 50119) == "https://dashboard.nexudus.com/x/50119"


def test_no_address_or_no_id_opens_the_admin_panel():
    assert invoice_url("", 50119) == ADMIN_PANEL
    assert invoice_url("https://dashboard.nexudus.com/x/{id}", False) == ADMIN_PANEL


def test_an_address_is_https_with_one_placeholder():
    assert is_valid_template("") and is_valid_template(None)
    assert is_valid_template(" https://dashboard.nexudus.com/x/{id} ")
    for wrong in ("http://a.b/{id}", "https://a.b/x", "https://a.b/{id}/{id}", "{id}", "https:///{id}"):
        assert not is_valid_template(wrong), wrong
