import copy
import pickle

from nqc_tools.errors import RejectedError
from nqc_tools.texts import Text, _lt


def test_a_text_reads_as_english_and_keeps_its_source_and_arguments():
    where = _lt("Invoice %(label)s, line %(line)s", label="INV-1", line=2)
    text = _lt("%(where)s: no item.", where=where)
    assert text == "Invoice INV-1, line 2: no item."
    assert text.source == "%(where)s: no item."
    assert text.params["where"].source == "Invoice %(label)s, line %(line)s"


def test_a_text_without_arguments_is_not_formatted():
    assert _lt("100% of it") == "100% of it"


def test_a_text_survives_copy_and_pickle():
    text = _lt("Invoice %(label)s", label="INV-2")
    for clone in (copy.deepcopy(text), pickle.loads(pickle.dumps(text))):
        assert isinstance(clone, Text)
        assert (clone, clone.source, clone.params) == (text, text.source, text.params)


def test_an_api_error_reads_its_text_in_english():
    error = RejectedError(_lt("Invoice %(label)s refused.", label="INV-3"), service="QuickBooks", code="6000")
    assert str(error) == "QuickBooks: Invoice INV-3 refused. (code 6000)"
