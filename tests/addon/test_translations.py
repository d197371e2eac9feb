"""The translation template is complete, and the tools' texts reach people in their language."""

import io
from pathlib import Path
from unittest.mock import patch

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import trans_export

from odoo.addons.nexudus_qbo_connector.tools.errors import RejectedError
from odoo.addons.nexudus_qbo_connector.tools.texts import _lt, translated

from .common import ADDON

POT = Path(__file__).resolve().parents[2] / ADDON / "i18n" / f"{ADDON}.pot"


def _msgids(content):
    return {entry.msgid for entry in polib.pofile(content) if entry.msgid}


@tagged("standard", "post_install", "-at_install")
class TestTranslations(TransactionCase):
    test_module = ADDON

    def test_the_template_holds_every_translatable_text(self):
        buffer = io.BytesIO()
        trans_export(False, [ADDON], buffer, "po", self.env)
        current = _msgids(buffer.getvalue().decode())
        committed = _msgids(POT.read_text(encoding="utf-8"))
        missing = sorted(current - committed)
        stale = sorted(committed - current)
        if missing:
            self.fail(f"{len(missing)} text(s) missing from {POT.name}, run bin/update-pot; the first: {missing[:3]}")
        if stale:
            self.fail(f"{len(stale)} text(s) in {POT.name} are no longer in the code, run bin/update-pot: {stale[:3]}")

    def test_the_tools_texts_are_in_the_template(self):
        committed = _msgids(POT.read_text(encoding="utf-8"))
        self.assertIn("Invoice %(label)s has no lines in Nexudus: there is nothing to transfer.", committed)

    def test_a_tools_text_and_an_api_error_are_shown_in_the_users_language(self):
        source = "Invoice %(label)s has no lines in Nexudus: there is nothing to transfer."
        french = "La facture %(label)s n'a aucune ligne dans Nexudus : rien à transférer."
        text = _lt(source, label="INV-7")
        self.assertEqual(text, "Invoice INV-7 has no lines in Nexudus: there is nothing to transfer.")

        def catalogue(module, lang):
            return {source: french} if (module, lang) == (ADDON, "fr_FR") else {}

        self.env["res.lang"]._activate_lang("fr_FR")
        with patch("odoo.tools.translate.code_translations.get_python_translations", side_effect=catalogue):
            env = self.env(context={"lang": "fr_FR"})
            shown = translated(env, text)
            self.assertEqual(shown, "La facture INV-7 n'a aucune ligne dans Nexudus : rien à transférer.")
            error = RejectedError(text, service="QuickBooks", code="6000")
            self.assertEqual(
                translated(env, error),
                "QuickBooks: La facture INV-7 n'a aucune ligne dans Nexudus : rien à transférer. (code 6000)",
            )
            self.assertEqual(translated(self.env(context={"lang": "en_US"}), text), str(text))
