"""The Odoo suite. Odoo gives Chromium 10 seconds to start before it skips a browser tour; on a loaded
two-core machine that is not enough, and a skipped tour proves nothing, so it is given a minute."""

from odoo.tests import common

common.CHECK_BROWSER_ITERATIONS = 600  # x CHECK_BROWSER_SLEEP (0.1 s)
