from . import (
    nexudus_qbo_map_all_locations,
    nexudus_qbo_mark_dealt_with,
    nexudus_qbo_preflight,
    nexudus_qbo_preflight_line,
    nexudus_qbo_signin,
)
