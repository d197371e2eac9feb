import { registry } from "@web/core/registry";

// Mappings › Account mappings: map one Nexudus account for every location that has it, in one action.
// The test has connected QuickBooks and read the lists; Nexudus account PRD-001 is unmatched everywhere.
registry.category("web_tour.tours").add("nexudus_qbo_map_all_tour", {
    url: "/odoo/action-nexudus_qbo_connector.action_nexudus_qbo_account_map",
    steps: () => [
        {
            content: "Select London Bridge's PRD-001",
            trigger: ".o_data_row:contains(PRD-001):contains(London Bridge) .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Map it for all locations",
            trigger: ".o_control_panel button:contains(Map for all locations)",
            run: "click",
        },
        {
            content: "The dialog lists the locations that have the account",
            trigger: ".modal .o_field_widget[name=location_ids]:contains(Manchester Works)",
        },
        {
            content: "Pick the QuickBooks account",
            trigger: ".modal .o_field_widget[name=qbo_account_id] input",
            run: "edit Services",
        },
        {
            content: "Choose Services",
            trigger: ".o-autocomplete--dropdown-item a:contains(Services)",
            run: "click",
        },
        {
            content: "The item using the account is proposed",
            trigger: ".modal .o_field_widget[name=qbo_item_id] input:value(Services)",
        },
        {
            content: "Map for all locations",
            trigger: ".modal button[name=action_map]",
            run: "click",
        },
        {
            content: "One action mapped it in every location",
            trigger: ".o_notification:contains(in 3 locations)",
        },
    ],
});
