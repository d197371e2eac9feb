"""The classes of PostgreSQL advisory locks the connector's workers take, each a (class, key) pair, in one place
so that no two kinds of lock share a class (taken with ``advisory_locks``)."""

COMPANY_LOCK = 0x4E43  # one worker syncs or sweeps this company (key: its id)
INVOICE_LOCK = 0x4E51  # one worker transfers this invoice (key: its id)
CUSTOMER_LINK_LOCK = 0x4E52  # one worker links this Nexudus customer (key: its Nexudus id)
CUSTOMER_NAME_LOCK = 0x4E53  # one worker gives out this QuickBooks name (key: a hash of the name)
PAYMENT_LOCK = 0x4E54  # one worker moves this payment (key: its id)
IMPORT_LOCK = 0x4E55  # one worker imports this location's invoices (key: its id)
