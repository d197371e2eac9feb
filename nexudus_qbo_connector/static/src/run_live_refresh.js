import { registry } from "@web/core/registry";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { Component, onMounted, onWillUnmount } from "@odoo/owl";

/** Reads a run's record again every few seconds while the run is in progress, so that its form shows the
 * counts the run commits as it goes; stops as soon as the run is no longer in progress. */
export class RunLiveRefresh extends Component {
    static props = standardWidgetProps;
    static template = "nexudus_qbo_connector.RunLiveRefresh";
    static INTERVAL_MS = 3000;

    setup() {
        onMounted(() => {
            this.timer = setInterval(() => this.refresh(), RunLiveRefresh.INTERVAL_MS);
        });
        onWillUnmount(() => clearInterval(this.timer));
    }

    async refresh() {
        const record = this.props.record;
        if (record.data.in_progress && !record.dirty) {
            await record.load();
        }
    }
}

registry.category("view_widgets").add("nexudus_qbo_run_live_refresh", {
    component: RunLiveRefresh,
    fieldDependencies: [{ name: "in_progress", type: "boolean" }],
});
