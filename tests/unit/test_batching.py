"""Batch requests: deterministic ids within QuickBooks' lengths (research §3.6)."""

import pytest
from nqc_tools import batching


def test_request_id_is_deterministic_and_fits_a_batch():
    first = batching.request_id("9341", "invoices", "12:0", "13:0")
    assert first == batching.request_id("9341", "invoices", "12:0", "13:0")
    assert first != batching.request_id("9341", "invoices", "12:1", "13:0")
    assert len(first) <= batching.MAX_REQUEST_ID


def test_chunks_and_item_ids():
    assert [len(c) for c in batching.chunks(list(range(65)))] == [30, 30, 5]
    assert batching.item_id(30) == "30"
    with pytest.raises(ValueError):
        batching.item_id(10**10)
