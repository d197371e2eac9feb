-- A duplicated or restored database must never talk to the live Nexudus or QuickBooks company:
-- blank every password, secret and token (their encrypted columns); QuickBooks connections then show
-- "Needs reconnect".
UPDATE res_company
   SET nexudus_password_encrypted = NULL,
       qbo_client_secret_encrypted = NULL,
       nexudus_webhook_secret_encrypted = NULL,
       qbo_verifier_token_encrypted = NULL,
       qbo_oauth_nonce = NULL;
UPDATE nexudus_qbo_token
   SET access_token_encrypted = NULL,
       refresh_token_encrypted = NULL,
       access_expires_at = NULL,
       state = 'needs_reconnect';
