-- A duplicated or restored database must never talk to the live Nexudus or QuickBooks company:
-- blank every password, secret and token, and mark live QuickBooks connections as needing a reconnect.
UPDATE res_company
   SET nexudus_password = NULL,
       qbo_client_secret = NULL,
       qbo_state = CASE WHEN qbo_state = 'connected' THEN 'needs_reconnect' ELSE qbo_state END;
UPDATE nexudus_qbo_token
   SET access_token = NULL,
       refresh_token = NULL,
       access_expires_at = NULL,
       refresh_expires_at = NULL;
