import { registry } from "@web/core/registry";

// The page Intuit's callback redirects to once QuickBooks is connected: a notification naming the
// QuickBooks company (the simulator's), then Settings showing the connection.
registry.category("web_tour.tours").add("nexudus_qbo_connected_tour", {
    url: "/odoo/action-nexudus_qbo_connector.action_qbo_connected",
    steps: () => [
        {
            content: "The notification names the QuickBooks company and its country",
            trigger: ".o_notification:contains(QuickBooks company Bridge Coworking Ltd (GB))",
        },
        {
            content: "Settings show the connection",
            trigger: "button[name=action_qbo_disconnect]",
        },
    ],
});
