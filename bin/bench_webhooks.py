"""The latency benchmark of bin/bench-webhooks, run inside ``odoo shell`` while Odoo also runs as a server
(HTTP and one cron thread) on the same database, at ODOO_URL.

With BENCH_REPO_ROOT, BENCH_INVOICES, BENCH_CUSTOMERS, BENCH_SEED, BENCH_SAMPLES and BENCH_MAX_SECONDS set:

1. starts both simulators at their documented limits (bin/bench_run.py's host) and prepares the company as
   bin/bench does (automatic sending on, the seed's near-misses mapped, payment options off);
2. clicks "Register Nexudus webhooks" (the webhooks point at ODOO_URL), triggers the scheduled action once and
   waits until the seeded invoices are moved (nothing left to send or sending);
3. BENCH_SAMPLES times: issues one invoice in the Nexudus simulator and measures the time until its document
   is in the QuickBooks simulator. Nothing here runs the scheduled action: the path is Nexudus's webhook →
   the controller → the cron trigger → the server's cron thread;
4. prints the median, the spread and a markdown row for the README. Exits 1 when a sample timed out or the
   median is above 60 seconds.
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.environ["BENCH_REPO_ROOT"], "bin"))
import bench_run  # noqa: E402 - bin/ is not a package
from bench_run import PENDING, Simulators, map_near_misses, prepare_company, say, states  # noqa: E402

from odoo.addons.nexudus_qbo_connector.models.nexudus_qbo_account_map import INCOME_TYPES  # noqa: E402

TARGET = 60.0


def map_the_rest(env, company):
    """Map the accounts the seed leaves without a QuickBooks account (Product Sales) to an income account, so
    that every invoice issued during the samples can go: the bench times transfers, not waits for mappings."""
    unmapped = env["nexudus.qbo.account.map"].search(
        [("company_id", "=", company.id), ("qbo_account_id", "=", False), ("nexudus_type", "=", "sales")]
    )
    income = env["nexudus.qbo.account"].search(
        [("company_id", "=", company.id), ("account_type", "in", list(INCOME_TYPES))], order="name", limit=1
    )
    unmapped.qbo_account_id = income
    env.cr.commit()
    unmapped.action_create_items()
    env.cr.commit()
    names = ", ".join(sorted(set(unmapped.mapped("nexudus_name"))))
    say(f"  Also mapped {len(unmapped)} accounts left unmapped ({names}) to {income.name}")


def wait_until_settled(env, company, cap):
    """Trigger the scheduled action and wait for the server's cron thread to move every seeded invoice."""
    env.ref(bench_run.CRON).sudo()._trigger()
    env.cr.commit()
    started = time.time()
    while time.time() - started < cap:
        time.sleep(1)
        counts = states(env.registry, company.id)
        if counts and not sum(counts.get(state, 0) for state in PENDING):
            return counts
    raise SystemExit(f"The seeded invoices were not moved within {cap:.0f} s: {states(env.registry, company.id)}")


def sample(simulators, coworker_id, cap):
    started = time.time()
    issued = simulators.ask(f"issue {coworker_id}")
    while time.time() - started < cap:
        if simulators.ask(f"in_qbo {issued['id']}")["found"]:
            return issued, time.time() - started
        time.sleep(0.1)
    return issued, None


def main(env):
    samples = int(os.environ.get("BENCH_SAMPLES", "20"))
    cap = float(os.environ.get("BENCH_MAX_SECONDS", "300"))
    sizes = {
        "seed": int(os.environ.get("BENCH_SEED", "1")),
        "profile": "uk",
        "locations": 3,
        "customers": int(os.environ.get("BENCH_CUSTOMERS", "40")),
        "invoices": int(os.environ.get("BENCH_INVOICES", "60")),
    }
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    say(f"Starting both simulators at their documented limits: {sizes}")
    simulators = Simulators(os.environ["BENCH_REPO_ROOT"], sizes)
    try:
        company = prepare_company(env, simulators.ready["nexudus"], simulators.ready["qbo"], payments=False)
        map_near_misses(env, company)
        map_the_rest(env, company)
        created = company._nexudus_register_webhooks()
        env.cr.commit()
        say(f"  Webhooks: {created} registered in Nexudus, posting to {os.environ.get('ODOO_URL')}")
        counts = wait_until_settled(env, company, cap)
        say(f"  Seeded invoices moved: {', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}")
        coworkers = [int(i) for i in env["nexudus.qbo.invoice"].search([("company_id", "=", company.id),
                     ("transfer_state", "=", "sent")]).mapped("nexudus_coworker_id")][:samples] or [None]  # fmt: skip
        latencies, missed = [], []
        for index in range(samples):
            coworker = coworkers[index % len(coworkers)]
            issued, seconds = sample(simulators, coworker, cap)
            if seconds is None:
                missed.append(issued["number"])
                say(f"  {index + 1:2}/{samples} {issued['number']}: not in QuickBooks after {cap:.0f} s")
            else:
                latencies.append(seconds)
                say(f"  {index + 1:2}/{samples} {issued['number']}: in QuickBooks after {seconds:.1f} s")
        errors = [hook for hook in simulators.ask("webhooks") if hook[1]]
    finally:
        simulators.close()
    if not latencies:
        raise SystemExit("No invoice reached QuickBooks.")
    median = statistics.median(latencies)
    say("")
    say(f"Latency from an invoice issued in Nexudus to its document in QuickBooks, {samples} samples:")
    say(
        f"  median {median:.1f} s, fastest {min(latencies):.1f} s, slowest {max(latencies):.1f} s, missed {len(missed)}"
    )
    say(f"  webhooks with delivery errors: {len(errors)} {errors[:3]}")
    say("")
    say("| Webhook latency (Nexudus → QuickBooks) | samples | median | fastest | slowest | missed |")
    say("|---|---|---|---|---|---|")
    say(f"| server with 1 cron thread | {samples} | {median:.1f} s | {min(latencies):.1f} s | {max(latencies):.1f} s | "
        f"{len(missed)} |")  # fmt: skip
    if missed or median > TARGET:
        raise SystemExit(1)


if "env" in globals():
    main(env)  # noqa: F821 - given by odoo shell
