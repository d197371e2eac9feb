"""The run interval is kept in minutes (at least 5) instead of hours: convert what each company set."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """SELECT 1 FROM information_schema.columns
            WHERE table_name = 'res_company' AND column_name = 'nexudus_qbo_interval_hours'"""
    )
    if not cr.fetchone():
        return
    cr.execute("ALTER TABLE res_company DROP CONSTRAINT IF EXISTS res_company_nexudus_qbo_interval_positive")
    cr.execute("ALTER TABLE res_company RENAME COLUMN nexudus_qbo_interval_hours TO nexudus_qbo_interval_minutes")
    cr.execute(
        """UPDATE res_company
              SET nexudus_qbo_interval_minutes = GREATEST(COALESCE(nexudus_qbo_interval_minutes, 6) * 60, 5)"""
    )
