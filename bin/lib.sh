# Shared by bin/run-tests and bin/demo: find Odoo 19, make PostgreSQL ready, install Python requirements.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

install_requirements() {
    # Quiet and quick when everything is already there.
    "$PYTHON" -m pip install --quiet --disable-pip-version-check -r "$REPO_ROOT/requirements.txt" \
        || { echo "could not install requirements.txt" >&2; return 1; }
}

# Prints the reason and returns 1 when Odoo 19 is not importable.
odoo_available() {
    "$PYTHON" - <<'PY'
import sys
try:
    import odoo.release
except Exception as exc:  # noqa: BLE001
    print(f"Odoo is not importable by {sys.executable} ({type(exc).__name__}: {exc})")
    sys.exit(1)
if odoo.release.version_info[0] != 19:
    print(f"Odoo {odoo.release.version} is importable, but this addon needs Odoo 19")
    sys.exit(1)
PY
}

# The addons path: $ODOO_ADDONS_PATH if set, else Odoo's own odoo/addons plus the community addons/
# folder next to the odoo package (where a source checkout keeps them), plus this repository.
odoo_addons_path() {
    if [ -n "${ODOO_ADDONS_PATH:-}" ]; then
        echo "$ODOO_ADDONS_PATH,$REPO_ROOT"
        return
    fi
    "$PYTHON" - "$REPO_ROOT" <<'PY'
import os
import sys

import odoo.addons

paths = [p for p in odoo.addons.__path__ if os.path.isdir(os.path.join(p, "base"))]
for base in list(paths):
    community = os.path.normpath(os.path.join(base, "..", "..", "addons"))
    if os.path.isfile(os.path.join(community, "account", "__manifest__.py")):
        paths.append(community)
paths.append(sys.argv[1])
print(",".join(dict.fromkeys(paths)))
PY
}

# Start PostgreSQL when it is not answering, and make sure the current user has a role.
ensure_postgres() {
    if ! pg_isready -q 2>/dev/null; then
        log "Starting PostgreSQL"
        if command -v pg_ctlcluster >/dev/null 2>&1; then
            for cluster in $(pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}'); do
                pg_ctlcluster "${cluster%/*}" "${cluster#*/}" start 2>/dev/null || true
            done
        fi
        pg_isready -q 2>/dev/null || service postgresql start >/dev/null 2>&1 || true
        for _ in $(seq 1 30); do pg_isready -q 2>/dev/null && break; sleep 1; done
        pg_isready -q || { echo "PostgreSQL is not running and could not be started" >&2; return 1; }
    fi
    if ! psql -d postgres -tAc 'select 1' >/dev/null 2>&1; then
        if [ "$(id -u)" = "0" ] && id postgres >/dev/null 2>&1; then
            log "Creating a PostgreSQL role for $(id -un)"
            su postgres -c "createuser --superuser $(id -un)" || return 1
        else
            echo "The current user cannot connect to PostgreSQL: create a role for $(id -un) with CREATEDB" >&2
            return 1
        fi
    fi
}

# odoo_cli ARGS...: run Odoo's command line with this repository on the addons path.
odoo_cli() {
    "$PYTHON" -m odoo "$@" --addons-path="$ADDONS_PATH"
}

# The addon keeps passwords, secrets and tokens encrypted with the key in NEXUDUS_QBO_SECRET_KEY (or
# nexudus_qbo_secret_key in the Odoo configuration file): when none is set, make one for this run.
ensure_secret_key() {
    if [ -z "${NEXUDUS_QBO_SECRET_KEY:-}" ]; then
        NEXUDUS_QBO_SECRET_KEY=$("$PYTHON" -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
            || return 1
        export NEXUDUS_QBO_SECRET_KEY
    fi
}
