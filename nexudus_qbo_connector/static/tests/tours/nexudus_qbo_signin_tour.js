import { registry } from "@web/core/registry";

// Settings › Nexudus ↔ QuickBooks: sign in as a Nexudus user with two-factor sign-in, through both steps
// of the sign-in dialog. The test starts it with the Nexudus simulator's 2FA user (code 123456).
registry.category("web_tour.tours").add("nexudus_qbo_signin_tour", {
    url: "/odoo/action-nexudus_qbo_connector.action_nexudus_qbo_settings",
    steps: () => [
        {
            content: "Open the Nexudus sign-in dialog",
            trigger: "button[name=action_nexudus_test_connection]",
            run: "click",
        },
        {
            content: "Type the email",
            trigger: ".modal .o_field_widget[name=email] input",
            run: "edit 2fa@example.com",
        },
        {
            content: "Type the password",
            trigger: ".modal .o_field_widget[name=password] input",
            run: "edit secret",
        },
        {
            content: "Sign in",
            trigger: ".modal button[name=action_sign_in]",
            run: "click",
        },
        {
            content: "The same dialog asks for the two-factor code",
            trigger: ".modal .o_nexudus_qbo_signin_message:contains(type the current code)",
        },
        {
            content: "Type the code",
            trigger: ".modal .o_field_widget[name=totp] input",
            run: "edit 123456",
        },
        {
            content: "Sign in with the code",
            trigger: ".modal button[name=action_sign_in]",
            run: "click",
        },
        {
            content: "Signed in: the locations are listed",
            trigger: ".o_notification:contains(Signed in as 2fa@example.com)",
        },
        {
            content: "The dialog closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});
