import { registry } from "@web/core/registry";

// From the overview to a failed invoice, its fix and back: London Bridge's "Zero-rated" (5% in Nexudus) is
// mapped to QuickBooks' 0% code, so QuickBooks computed another total and the invoice failed. The person
// maps it to a 5% code and retries; the overview then counts it sent today. Prepared by test_tour_overview.py.
const LONDON = ".o_kanban_record:contains(London Bridge)";
const ZERO_RATED =
    ".o_data_row:has(td[name=location_id]:contains(London Bridge)):has(td[name=nexudus_name]:contains(Zero-rated))";

registry.category("web_tour.tours").add("nexudus_qbo_overview_tour", {
    url: "/odoo/action-nexudus_qbo_connector.action_nexudus_qbo_overview",
    steps: () => [
        {
            content: "London Bridge counts one failed invoice: open it",
            trigger: `${LONDON} button[name=action_open_failed]:contains(1 failed)`,
            run: "click",
        },
        {
            content: "Open the failed invoice",
            trigger: ".o_list_view .o_data_row:contains(Failed) td[name=number]",
            run: "click",
        },
        {
            content: "Its reason names the fix",
            trigger: ".o_form_view .alert-danger:contains(check the tax codes mapped for its lines)",
        },
        {
            content: "Open Mappings",
            trigger: ".o_main_navbar button:contains(Mappings)",
            run: "click",
        },
        {
            content: "Open Tax mappings",
            trigger: ".dropdown-item:contains(Tax mappings)",
            run: "click",
        },
        {
            content: "London Bridge's Zero-rated is mapped at another rate on purpose",
            trigger: `${ZERO_RATED} td[name=qbo_tax_code_id]`,
            run: "click",
        },
        {
            content: "Pick the QuickBooks code at 5%",
            trigger: ".o_selected_row .o_field_widget[name=qbo_tax_code_id] input",
            run: "edit 5.0% R",
        },
        {
            content: "Choose 5.0% R",
            trigger: ".o-autocomplete--dropdown-item a:contains(5.0% R)",
            run: "click",
        },
        {
            content: "Save the mapping",
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: `${ZERO_RATED}:not(.o_selected_row) td[name=qbo_tax_code_id]:contains(5.0% R)`,
        },
        {
            content: "Open Invoices",
            trigger: ".o_main_navbar button:contains(Invoices)",
            run: "click",
        },
        {
            content: "Open the failed invoices",
            trigger: ".dropdown-item:contains(Failed)",
            run: "click",
        },
        {
            content: "Open the failed invoice",
            trigger: ".o_list_view .o_data_row:contains(Failed) td[name=number]",
            run: "click",
        },
        {
            content: "Retry it",
            trigger: ".o_form_view button[name=action_retry]",
            run: "click",
        },
        {
            content: "QuickBooks has it",
            trigger: ".o_notification:contains(1 created in QuickBooks)",
        },
        {
            content: "Back to the overview",
            trigger: ".o_main_navbar a:contains(Overview), .o_main_navbar button:contains(Overview)",
            run: "click",
        },
        {
            content: "No failed invoice any more",
            trigger: `${LONDON} button[name=action_open_failed]:contains(0 failed)`,
        },
        {
            content: "One sent today",
            trigger: `${LONDON} button[name=action_open_sent_today]:contains(1 sent today)`,
        },
    ],
});
