"""Customer links made before the QuickBooks customer list existed point to no listed customer: list
the customers they name and point them there (their QuickBooks id and name stay as they were)."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        INSERT INTO nexudus_qbo_customer (company_id, qbo_id, name, active, create_date, write_date)
        SELECT DISTINCT ON (company_id, qbo_customer_id)
               company_id, qbo_customer_id, COALESCE(qbo_display_name, qbo_customer_id), TRUE,
               NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
          FROM nexudus_qbo_customer_link
         WHERE customer_id IS NULL AND qbo_customer_id IS NOT NULL
        ON CONFLICT (company_id, qbo_id) DO NOTHING
        """
    )
    cr.execute(
        """
        UPDATE nexudus_qbo_customer_link link
           SET customer_id = customer.id
          FROM nexudus_qbo_customer customer
         WHERE link.customer_id IS NULL
           AND customer.company_id = link.company_id
           AND customer.qbo_id = link.qbo_customer_id
        """
    )
