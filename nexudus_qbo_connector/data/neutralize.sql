-- A duplicated or restored database must never talk to the live Nexudus or QuickBooks company:
-- blank every password, secret and token; QuickBooks connections then show "Needs reconnect".
UPDATE res_company
   SET nexudus_password = NULL,
       qbo_client_secret = NULL,
       qbo_oauth_nonce = NULL;
UPDATE nexudus_qbo_token
   SET access_token = NULL,
       refresh_token = NULL,
       access_expires_at = NULL,
       state = 'needs_reconnect';
