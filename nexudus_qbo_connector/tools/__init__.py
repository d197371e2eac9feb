"""Plain Python API clients and helpers: no ORM here, so they are tested without Odoo.

The addon's models build these clients with the company's credentials and endpoints and call them.
Only relative imports are used inside this package, so tests can load it on its own.
"""
