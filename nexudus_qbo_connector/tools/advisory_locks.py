"""PostgreSQL advisory locks, taken and released in one place (their classes are in ``constants``)."""

from contextlib import contextmanager


@contextmanager
def advisory_locks(cr, lock_class, *keys, wait=False):
    """Hold the session lock ``(lock_class, key)`` of each of ``keys`` for the block, and yield the keys
    taken, in order: all of them when ``wait`` (each waited for), else those no other session holds.

    When the block raises, the transaction is rolled back before the locks are released, so that no other
    worker takes what they guard while this transaction still holds an uncommitted write of it; then each
    lock taken is released once (a key given twice is taken, and released, twice)."""
    taken = []
    try:
        for key in keys:
            if wait:
                cr.execute("SELECT pg_advisory_lock(%s, %s)", (lock_class, key))
                taken.append(key)
            else:
                cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (lock_class, key))
                if cr.fetchone()[0]:
                    taken.append(key)
        yield taken
    except BaseException:
        if taken:
            cr.rollback()
        raise
    finally:
        for key in taken:
            cr.execute("SELECT pg_advisory_unlock(%s, %s)", (lock_class, key))


def try_transaction_lock(cr, lock_class, key):
    """Take the lock ``(lock_class, key)`` until the transaction ends, if no other session holds it; returns
    whether it was taken."""
    cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (lock_class, key))
    return cr.fetchone()[0]
