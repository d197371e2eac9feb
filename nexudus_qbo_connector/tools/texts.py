"""Texts for people, written by the plain-Python tools and shown by the addon in the user's language.

The tools run without Odoo (the simulators' and clients' tests), so they cannot call Odoo's ``_``.
They write ``_lt("Invoice %(label)s has no lines.", label=label)`` instead: a ``Text`` reads as the
English sentence everywhere, and keeps its source and arguments so that ``translated(env, text)``
gives it in the language of ``env``. Odoo's term extraction collects ``_lt(...)`` calls into the
addon's ``.pot`` like any other.
"""

MODULE = "nexudus_qbo_connector"


class Text(str):
    """An English sentence that remembers its translatable source and its arguments."""

    def __new__(cls, source, /, **params):
        text = super().__new__(cls, source % params if params else source)
        text.source = source
        text.params = params
        return text

    def __reduce__(self):  # keep source and arguments through copy and pickle
        return (_rebuild, (self.source, self.params))


def _rebuild(source, params):
    return Text(source, **params)


_lt = Text


def translated(env, text):
    """``text`` (a Text, an API error carrying one, or any string) in the language of ``env``."""
    from odoo.tools.translate import get_translation  # noqa: PLC0415 - the tools stay importable without Odoo

    from .errors import ApiError  # noqa: PLC0415 - errors import this module

    if isinstance(text, ApiError):
        return text.describe(translated(env, text.message))
    if not isinstance(text, Text):
        return text if isinstance(text, str) else str(text)
    params = {key: translated(env, value) if isinstance(value, Text) else value for key, value in text.params.items()}
    return get_translation(MODULE, env.lang or "en_US", text.source, params)
