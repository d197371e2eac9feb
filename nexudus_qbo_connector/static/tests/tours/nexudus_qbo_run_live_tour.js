import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

// A run's form follows the run while it goes, without a reload: the run commits 7 sent invoices on its
// line (here written as the run would), the form shows them; the run finishes, the form says so.
// Prepared by test_run_history.py, which opens the run's form.
const SENT = ".o_form_view .o_inner_group div[name=sent_count]";

function call(model, method, args) {
    return rpc(`/web/dataset/call_kw/${model}/${method}`, { model, method, args, kwargs: {} });
}

/** The run whose form is open: the last segment of the address. */
function runId() {
    return Number(window.location.pathname.split("/").pop());
}

registry.category("web_tour.tours").add("nexudus_qbo_run_live_tour", {
    steps: () => [
        {
            content: "The run is in progress and has sent nothing yet",
            trigger: `.o_form_view .o_nexudus_qbo_run_live:contains(In progress)`,
        },
        {
            content: "Nothing sent so far",
            trigger: `${SENT}:contains(0)`,
            run: async () => {
                const lines = await call("nexudus.qbo.run.line", "search", [[["run_id", "=", runId()]]]);
                await call("nexudus.qbo.run.line", "write", [lines, { sent_count: 7 }]);
            },
        },
        {
            content: "The form shows the 7 sent without a reload",
            trigger: `${SENT}:contains(7)`,
            run: async () => {
                await call("nexudus.qbo.run", "write", [[runId()], { finished: true }]);
            },
        },
        {
            content: "The run has finished: the form says so",
            trigger: ".o_form_view:not(:has(.o_nexudus_qbo_run_live))",
        },
    ],
});
