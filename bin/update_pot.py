"""Write nexudus_qbo_connector/i18n/nexudus_qbo_connector.pot from a database where the addon is installed.

Usage (bin/update-pot does the set-up): python3 bin/update_pot.py DATABASE ADDONS_PATH
"""

import io
import sys
from pathlib import Path

import odoo
from odoo.modules.registry import Registry
from odoo.tools.translate import trans_export

ADDON = "nexudus_qbo_connector"
POT = Path(__file__).resolve().parent.parent / ADDON / "i18n" / f"{ADDON}.pot"


def main(database, addons_path):
    odoo.tools.config.parse_config(["-d", database, "--addons-path", addons_path, "--no-http"])
    with Registry(database).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        buffer = io.BytesIO()
        trans_export(False, [ADDON], buffer, "po", env)
    POT.write_bytes(buffer.getvalue())
    print(f"wrote {POT}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
