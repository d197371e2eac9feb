import logging

from nqc_tools.redaction import MASK, get_logger, redact
from requests.structures import CaseInsensitiveDict


def test_redact_masks_secrets_in_nested_data_and_keeps_error_codes():
    data = {
        "access_token": "at-123",
        "nested": [{"refresh_token": "rt-456", "Name": "Acme"}],
        "Fault": {"Error": [{"code": "6240", "Message": "Duplicate Name Exists Error"}]},
        "password": "",
    }
    clean = redact(data)
    assert clean["access_token"] == MASK
    assert clean["nested"][0] == {"refresh_token": MASK, "Name": "Acme"}
    assert clean["Fault"]["Error"][0]["code"] == "6240"  # an error code is not a secret
    assert clean["password"] == ""  # nothing to hide


def test_redact_masks_form_bodies_json_text_and_authorization_headers():
    text = (
        "grant_type=password&username=a@b.com&password=hunter2&totp=123456 "
        'callback?code=AB12&state=xyz {"refresh_token": "rt-1", "code": "610"} '
        "Authorization: Bearer eyJhbGciOi.abc Basic dXNlcjpwYXNz"
    )
    clean = redact(text)
    for secret in ("hunter2", "123456", "AB12", "rt-1", "eyJhbGciOi", "dXNlcjpwYXNz"):
        assert secret not in clean
    assert "username=a@b.com" in clean
    assert "state=xyz" in clean
    assert '"code": "610"' in clean


def test_logger_filter_handles_a_single_mapping_argument(caplog):
    logger = get_logger("nqc_test_redaction_mapping")
    headers = CaseInsensitiveDict({"Authorization": "Basic c2VjcmV0OnNlY3JldA==", "Accept": "application/json"})
    with caplog.at_level(logging.DEBUG, logger="nqc_test_redaction_mapping"):
        logger.debug("Request headers were %s", headers)
    assert "c2VjcmV0OnNlY3JldA" not in caplog.text
    assert "application/json" in caplog.text


def test_logger_filter_redacts_formatted_arguments(caplog):
    logger = get_logger("nqc_test_redaction")
    with caplog.at_level(logging.INFO, logger="nqc_test_redaction"):
        logger.info("token answer %s", {"access_token": "at-secret", "expires_in": 3600})
        logger.info("POST /api/token password=pw-secret")
    assert "at-secret" not in caplog.text
    assert "pw-secret" not in caplog.text
    assert "3600" in caplog.text
