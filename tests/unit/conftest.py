"""Load the addon's ``tools`` package on its own, as ``nqc_tools``, so these tests run without Odoo."""

import importlib.util
import os
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "nexudus_qbo_connector" / "tools"

if "nqc_tools" not in sys.modules:
    spec = importlib.util.spec_from_file_location(
        "nqc_tools", TOOLS / "__init__.py", submodule_search_locations=[str(TOOLS)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["nqc_tools"] = module
    spec.loader.exec_module(module)

# oauthlib refuses plain HTTP unless told otherwise; the simulators speak HTTP on loopback.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
