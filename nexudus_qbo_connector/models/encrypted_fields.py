"""Secrets encrypted at rest: the one way a model declares one, and where the key comes from.

A secret ``name`` is two fields. ``<name>_encrypted`` is the stored column and holds the Fernet token;
``<name>`` is computed from it (not stored) and encrypts what is written to it, so the code reads and
writes ``record.<name>`` in clear. The key is never in the database: the Odoo configuration file's
``nexudus_qbo_secret_key``, else the environment's ``NEXUDUS_QBO_SECRET_KEY``, several comma-separated
keys newest first (see ``tools/encryption.py``). A stored value that no key opens reads as empty.
"""

import os

from odoo import fields
from odoo.exceptions import UserError
from odoo.tools import SQL, config, sql

from ..tools import encryption
from ..tools.redaction import get_logger

_logger = get_logger(__name__)

CONFIG_OPTION = "nexudus_qbo_secret_key"
ENVIRONMENT_VARIABLE = "NEXUDUS_QBO_SECRET_KEY"
SUFFIX = "_encrypted"


def secret_keys():
    """The configured keys, newest first, as one comma-separated text ("" when none is set)."""
    return config.get(CONFIG_OPTION) or os.environ.get(ENVIRONMENT_VARIABLE) or ""


def encrypted_char(name, string, **kwargs):
    """The fields ``(<name>, <name>_encrypted)`` of the secret ``name``; ``kwargs`` (e.g. ``groups``)
    apply to both. Writing a value without a usable key is refused with what to configure."""
    column = f"{name}{SUFFIX}"

    def compute(records):
        keys = secret_keys()
        for record in records:
            token = record[column]
            record[name] = (token and encryption.decrypt(keys, token)) or False

    def inverse(records):
        for record in records:
            record[column] = record[name] and _encrypt(record.env, record[name])

    compute.__name__ = f"_compute_{name}"
    inverse.__name__ = f"_inverse_{name}"
    return (
        fields.Char(string, compute=compute, inverse=inverse, depends=[column], copy=False, **kwargs),
        fields.Char(f"{string} (encrypted)", copy=False, **kwargs),
    )


def unreadable(record, name):
    """Whether ``record`` stores a value for the secret ``name`` that the configured keys cannot open."""
    return bool(record[f"{name}{SUFFIX}"]) and not record[name]


def check_readable(record, name):
    """Refuse, with what to do, to go on with a stored secret that the configured keys cannot open."""
    if unreadable(record, name):
        raise UserError(
            record.env._(
                "The %(secret)s stored for %(record)s cannot be read: Odoo's configuration lacks the encryption key "
                "it was saved with (%(option)s, missing or replaced). Restore that key, or enter the %(secret)s "
                "again in Settings › Nexudus ↔ QuickBooks Online.",
                secret=record._fields[name].get_description(record.env)["string"],
                record=record.display_name,
                option=CONFIG_OPTION,
            )
        )


def _encrypt(env, clear):
    try:
        return encryption.encrypt(secret_keys(), clear)
    except encryption.SecretKeyError:
        raise UserError(
            env._(
                "Odoo has no encryption key for the passwords, secrets and tokens of Nexudus ↔ QuickBooks "
                "Online, so it cannot save them. Create a key with\n"
                '    python3 -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"\n'
                "add the line\n"
                "    %(option)s = <that key>\n"
                "to the [options] section of the Odoo configuration file (or set the environment variable "
                "%(variable)s), restart Odoo and save again.",
                option=CONFIG_OPTION,
                variable=ENVIRONMENT_VARIABLE,
            )
        ) from None


def encrypt_at_rest(model):
    """On install and update of the module: encrypt every stored secret of ``model`` under the newest
    key (a key put first is used from then on), including the clear-text columns an earlier version
    kept under each secret's own name, which are then dropped. Without a usable key nothing changes."""
    cr, table, keys = model.env.cr, model._table, secret_keys()
    for name, field in model._fields.items():
        column = f"{name}{SUFFIX}"
        if field.store or column not in model._fields:
            continue
        clear_column = sql.column_exists(cr, table, name)
        if not encryption.usable(keys):
            if clear_column:
                _logger.warning(
                    "%s.%s still holds clear text: configure %s and update again.", table, name, CONFIG_OPTION
                )
            continue
        cr.execute(
            SQL(
                "SELECT id, %s FROM %s WHERE %s IS NOT NULL",
                SQL.identifier(column),
                SQL.identifier(table),
                SQL.identifier(column),
            )
        )
        tokens = [(record_id, encryption.rotate(keys, token)) for record_id, token in cr.fetchall()]
        if clear_column:
            cr.execute(
                SQL(
                    "SELECT id, %s FROM %s WHERE %s IS NOT NULL AND %s IS NULL",
                    SQL.identifier(name),
                    SQL.identifier(table),
                    SQL.identifier(name),
                    SQL.identifier(column),
                )
            )
            tokens += [(record_id, encryption.encrypt(keys, clear)) for record_id, clear in cr.fetchall()]
        for record_id, token in tokens:
            if token:  # None: a token no configured key opens stays as it is
                cr.execute(
                    SQL(
                        "UPDATE %s SET %s = %s WHERE id = %s",
                        SQL.identifier(table),
                        SQL.identifier(column),
                        token,
                        record_id,
                    )
                )
        if clear_column:
            cr.execute(SQL("ALTER TABLE %s DROP COLUMN %s", SQL.identifier(table), SQL.identifier(name)))
            _logger.info("%s.%s: the clear-text values are now encrypted in %s", table, name, column)
