"""The one advisory-lock helper: what it takes, what it releases, and the rollback before the release."""

import pytest
from nqc_tools.advisory_locks import advisory_locks, try_transaction_lock

CLASS = 0x4E51


class FakeCursor:
    """Records each statement and rollback in order; the keys in ``busy`` are held by another session."""

    def __init__(self, busy=()):
        self.busy, self.log, self._answer = set(busy), [], None

    def execute(self, query, params):
        self.log.append((query.removeprefix("SELECT ").split("(")[0], *params))
        self._answer = params[1] not in self.busy

    def fetchone(self):
        return (self._answer,)

    def rollback(self):
        self.log.append(("rollback",))


def test_try_locks_yield_what_was_taken_and_release_only_that():
    cr = FakeCursor(busy={2})
    with advisory_locks(cr, CLASS, 1, 2, 3) as taken:
        assert taken == [1, 3]
        cr.log.append(("work",))
    assert cr.log == [
        ("pg_try_advisory_lock", CLASS, 1),
        ("pg_try_advisory_lock", CLASS, 2),
        ("pg_try_advisory_lock", CLASS, 3),
        ("work",),
        ("pg_advisory_unlock", CLASS, 1),
        ("pg_advisory_unlock", CLASS, 3),
    ]


def test_blocking_locks_wait_for_each_key():
    cr = FakeCursor()
    with advisory_locks(cr, CLASS, 7, wait=True) as taken:
        assert taken == [7]
    assert cr.log == [("pg_advisory_lock", CLASS, 7), ("pg_advisory_unlock", CLASS, 7)]


def test_an_error_rolls_back_before_the_release():
    cr = FakeCursor()
    with pytest.raises(RuntimeError), advisory_locks(cr, CLASS, 1, 2):
        cr.log.append(("uncommitted write",))
        raise RuntimeError("boom")
    assert cr.log[2:] == [
        ("uncommitted write",),
        ("rollback",),
        ("pg_advisory_unlock", CLASS, 1),
        ("pg_advisory_unlock", CLASS, 2),
    ]


def test_nothing_taken_nothing_rolled_back_nor_released():
    cr = FakeCursor(busy={1})
    with pytest.raises(RuntimeError), advisory_locks(cr, CLASS, 1) as taken:
        assert taken == []
        raise RuntimeError("boom")
    assert cr.log == [("pg_try_advisory_lock", CLASS, 1)]


def test_a_key_given_twice_is_released_twice():
    cr = FakeCursor()
    with advisory_locks(cr, CLASS, 5, 5) as taken:
        assert taken == [5, 5]
    assert cr.log.count(("pg_advisory_unlock", CLASS, 5)) == 2


def test_a_failure_while_locking_releases_what_was_taken():
    class Failing(FakeCursor):
        def execute(self, query, params):
            if params[1] == 2:
                raise KeyboardInterrupt  # e.g. a worker stopped while waiting
            super().execute(query, params)

    cr = Failing()
    with pytest.raises(KeyboardInterrupt), advisory_locks(cr, CLASS, 1, 2, 3, wait=True):
        pytest.fail("the block must not run")
    assert cr.log == [("pg_advisory_lock", CLASS, 1), ("rollback",), ("pg_advisory_unlock", CLASS, 1)]


def test_nested_blocks_roll_back_once_each_and_release_inner_first():
    cr = FakeCursor()
    with pytest.raises(ValueError), advisory_locks(cr, 1, 10, wait=True), advisory_locks(cr, 2, 20, wait=True):
        raise ValueError
    assert cr.log == [
        ("pg_advisory_lock", 1, 10),
        ("pg_advisory_lock", 2, 20),
        ("rollback",),
        ("pg_advisory_unlock", 2, 20),
        ("rollback",),
        ("pg_advisory_unlock", 1, 10),
    ]


def test_transaction_lock():
    cr = FakeCursor(busy={9})
    assert try_transaction_lock(cr, CLASS, 8) is True
    assert try_transaction_lock(cr, CLASS, 9) is False
    assert cr.log == [("pg_try_advisory_xact_lock", CLASS, 8), ("pg_try_advisory_xact_lock", CLASS, 9)]
