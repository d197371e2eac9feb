"""The benchmark of bin/bench, run inside ``odoo shell``; also the host of the two simulators it measures.

Inside ``odoo shell`` (``env`` given), with BENCH_REPO_ROOT, BENCH_INVOICES, BENCH_CUSTOMERS, BENCH_SEED,
BENCH_MAX_MINUTES, BENCH_STEADY, BENCH_PAYMENTS and BENCH_MAP_NEAR_MISSES in the environment:

1. starts both simulators in a child process (``python3 bin/bench_run.py --serve-simulators SIZES``), at
   their documented limits (never raised), so that their CPU and memory are not the Odoo process's; the
   child answers one JSON line per command on its stdin (``mark``, ``stats``, ``documents``, ``quit``);
2. prepares the company as bin/demo_setup.py does (endpoints and credentials, Nexudus "Test connection",
   "Connect with QuickBooks" through the simulator's consent form, both charts, "Create QuickBooks items",
   payments account, 0% default tax code, the payment options unless BENCH_PAYMENTS=0) and ticks
   "Automatically send invoices issued in Nexudus to QuickBooks" (with BENCH_MAP_NEAR_MISSES=1 it also maps the
   seed's near-misses as the tests do); nothing is imported yet;
3. drives the scheduled action as Odoo 19's cron worker does: acquire the job when it is ready
   (``ir.cron._acquire_one_job``), ``ir.cron._process_job`` (its ``_run_job`` loop makes an
   ir.cron.progress per call and gives ``cron_id``, ``cron_end_time``, ``ir_cron_progress_id``), commit;
   when the job is not ready, sleep until its next trigger (``ir.cron.trigger``) or ``nextcall``. It stops
   once every Nexudus invoice is mirrored and none is left to send or sending, or at the time cap;
4. prints the figures, the checks (each sent invoice in QuickBooks exactly once by its
   ``[nexudus-invoice <id>]`` marker, totals equal to Nexudus's) and a markdown row for the README.
   Exits 1 when a check fails or the cap was reached;
5. with BENCH_STEADY=N (N > 0) and the first import done, the steady state: the simulators' counters marked,
   N invoices issued in Nexudus (the host's ``issue`` command, the seeded invoices' builder) round-robin for
   the customers that have an invoice sent (so already linked in QuickBooks), the scheduled action triggered
   once (what its next run or a webhook does; its interval is hours) and driven as in 3 until all are moved;
   then that phase's figures alone (requests per invoice issued, throttles, CPU), the checks of 4 for those
   N invoices (each sent, in QuickBooks exactly once, Nexudus's total) and a second markdown row.

Times: the import runs from the first Nexudus request after the set-up to the last invoice mirrored
(``create_date``); sending from the first to the last Invoice/CreditMemo created in QuickBooks (the
simulator's write log, timed). Requests count API calls only (Nexudus ``/api/``, QuickBooks ``/v3/``,
refused ones included; the overview pages are not API calls). CPU is the Odoo process's own
(``time.process_time()`` over step 3), memory its peak resident set (``ru_maxrss``).
"""

import cProfile
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

CRON = "nexudus_qbo_connector.ir_cron_nexudus_qbo_sync"
MARKER = re.compile(r"\[nexudus-invoice (\d+)\]")
PENDING = ("to_send", "sending", "to_void")
DOCUMENTS = ("Invoice", "CreditMemo")
CENT = Decimal("0.01")


# -- the simulators' host (child process) ------------------------------------------------------------------
class _TimedList(list):
    """A list that also keeps the moment of each append: the simulators' request and write logs, timed."""

    def __init__(self, *args):
        super().__init__(*args)
        self.times = [0.0] * len(self)

    def append(self, item):
        self.times.append(time.time())
        super().append(item)


def serve_simulators(sizes):
    """Both simulators at their documented limits for one seeded world; answers commands on stdin."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from simulators.nexudus.server import NexudusSimulator
    from simulators.qbo.server import QboSimulator
    from simulators.world import build_world

    world = build_world(**sizes)
    nexudus = NexudusSimulator(world)  # limits=None: Nexudus's documented ones, 409 + Retry-After
    qbo = QboSimulator(world)  # limits=None: Intuit's documented throttles, 429
    nexudus.request_log = _TimedList()
    nexudus.throttle_log = _TimedList()
    qbo.request_log = _TimedList()
    qbo.writes = _TimedList(qbo.writes)
    nexudus.start()
    qbo.start()
    # What `python3 -m simulators --demo` does: the pre-flight checks refuse these two options on.
    qbo.set_preferences("SalesFormsPrefs", AutoApplyCredit=False, AutoApplyPayments=False)
    mark = {"nexudus_log": 0, "qbo_log": 0, "writes": 0, "nexudus_throttles": 0, "qbo_throttles": 0}

    def answer(payload):
        sys.stdout.write(json.dumps(payload, default=str) + "\n")
        sys.stdout.flush()

    answer({"nexudus": nexudus.url, "qbo": qbo.url, "invoices": len(nexudus.data.coworkerinvoices)})
    for line in sys.stdin:
        command = line.strip()
        if command == "mark":
            mark = {
                "nexudus_log": len(nexudus.request_log),
                "qbo_log": len(qbo.request_log),
                "writes": len(qbo.writes),
                "nexudus_throttles": len(nexudus.throttle_log),
                "qbo_throttles": len(qbo.throttled),
            }
            answer(
                {
                    "nexudus_requests": sum(1 for _m, p, _q in nexudus.request_log if p.startswith("/api/")),
                    "nexudus_throttled": mark["nexudus_throttles"],
                    "qbo_requests": sum(1 for _m, p, _q in qbo.request_log if p.startswith("/v3/")),
                    "qbo_throttled": mark["qbo_throttles"],
                    "nexudus_refusals": _refusals(nexudus, 0),
                }
            )
        elif command == "stats":
            answer(_stats(nexudus, qbo, mark))
        elif command == "documents":
            documents = []
            for entity in DOCUMENTS:
                for row in list(qbo.company.table(entity).rows.values()):
                    documents.append([entity, row.get("PrivateNote") or "", str(row.get("TotalAmt"))])
            totals = {str(i): str(r.get("TotalAmount")) for i, r in nexudus.data.coworkerinvoices.items()}
            answer({"qbo": documents, "nexudus": totals})
        elif command.startswith("issue "):  # a new invoice issued now (its webhook fires); `issue ID [JSON list]`:
            words = command.split(maxsplit=2)  # its lines avoid these account codes and tax rate names
            invoice = nexudus.issue_invoice(int(words[1]), avoid=set(json.loads(words[2])) if len(words) > 2 else ())
            answer({"id": invoice["Id"], "number": invoice["InvoiceNumber"]})
        elif command.startswith("in_qbo "):  # bin/bench_webhooks.py: whether the invoice's document is there
            marker = f"[nexudus-invoice {command.split()[1]}]"
            rows = [row for entity in DOCUMENTS for row in list(qbo.company.table(entity).rows.values())]
            answer({"found": any(marker in (row.get("PrivateNote") or "") for row in rows)})
        elif command == "webhooks":  # bin/bench_webhooks.py: the registered webhooks' delivery errors
            answer([[hook["Action"], hook["ErrorCount"], hook["LastError"]] for hook in nexudus.webhooks.values()])
        elif command == "quit":
            break
    nexudus.stop()
    qbo.stop()


def _since(log, start):
    """(entry, moment) of the entries of a timed log from index ``start`` on."""
    entries, times = list(log), list(log.times)
    return list(zip(entries[start:], times[start : len(entries)], strict=True))


def _refusals(nexudus, start):
    """[moment, method, path, Retry-After] of each request Nexudus refused, from index ``start`` on."""
    return [[t, method, path, seconds] for (method, path, _account, seconds), t in _since(nexudus.throttle_log, start)]


def _stats(nexudus, qbo, mark):
    """What the simulators saw since ``mark``: API requests (refused ones included), throttles, timings."""
    n_api = [(t, m) for (m, p, _q), t in _since(nexudus.request_log, mark["nexudus_log"]) if p.startswith("/api/")]
    q_log = _since(qbo.request_log, mark["qbo_log"])
    q_api = [t for (_m, p, _q), t in q_log if p.startswith("/v3/")]
    q_oauth = sum(1 for (_m, p, _q), _t in q_log if p.startswith("/oauth2/"))
    writes = _since(qbo.writes, mark["writes"])
    created = [t for (entity, operation, _id), t in writes if entity in DOCUMENTS and operation == "create"]
    q_kinds = Counter()
    for (method, path, params), _t in q_log:
        if path.startswith("/v3/"):
            what = path.rstrip("/").split("/")[4] if path.count("/") >= 4 else path
            if what == "query":
                found = re.search(r"\bfrom\s+(\w+)", params.get("query", ""), re.IGNORECASE)
                what = f"query {found.group(1) if found else '?'}"
            elif method == "POST" and params.get("operation"):
                what = f"{what} {params['operation']}"
            q_kinds[f"{method} {what}"] += 1
    return {
        "nexudus_requests": len(n_api),
        "nexudus_writes": sum(1 for _t, m in n_api if m in ("POST", "PUT", "DELETE")),
        "nexudus_first": n_api[0][0] if n_api else None,
        "nexudus_throttled": len(nexudus.throttle_log) - mark["nexudus_throttles"],
        "nexudus_refusals": _refusals(nexudus, mark["nexudus_throttles"]),
        "qbo_kinds": dict(q_kinds),
        "qbo_requests": len(q_api),
        "qbo_oauth": q_oauth,
        "qbo_throttled": len(qbo.throttled) - mark["qbo_throttles"],
        "qbo_throttled_by": dict(Counter(kind for _realm, kind in qbo.throttled[mark["qbo_throttles"] :])),
        "qbo_writes": dict(Counter(f"{e} {o}" for (e, o, _i), _t in writes)),
        "qbo_created": len(created),
        "qbo_first_created": created[0] if created else None,
        "qbo_last_created": created[-1] if created else None,
        "cpu": time.process_time(),
    }


class Simulators:
    """The parent's handle on the simulators' host."""

    def __init__(self, repo_root, sizes):
        script = os.path.join(repo_root, "bin", "bench_run.py")
        self.process = subprocess.Popen(
            [sys.executable, script, "--serve-simulators", json.dumps(sizes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=repo_root,
        )
        self.ready = self._read()

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the simulators' host stopped (exit code {self.process.poll()}); see the log")
        return json.loads(line)

    def ask(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


# -- inside odoo shell -------------------------------------------------------------------------------------
def say(text=""):
    print(text, flush=True)


def say_table(header, row):
    """A markdown table of one row, after a blank line, as the README's tables have it."""
    say()
    say(header)
    say("|" + "|".join("---" for _ in range(header.count("|") - 1)) + "|")
    say(row)


def map_near_misses(env, company):
    """What tests/addon/transfer_common.complete_mappings does, as an operator who checked the seed's
    near-misses would: Event Revenue to the QuickBooks account numbered evt-001 (and its item); Nexudus's
    "Zero-rated", which charges 5%, to a QuickBooks code at 5%. Product Sales has no QuickBooks account and
    stays unmapped."""
    near_miss = env["nexudus.qbo.account"].search([("company_id", "=", company.id), ("acct_num", "=", "evt-001")])
    events = env["nexudus.qbo.account.map"].search([("company_id", "=", company.id), ("nexudus_code", "=", "EVT-001")])
    events.qbo_account_id = near_miss
    env.cr.commit()
    events.action_create_items()
    env.cr.commit()
    five = env["nexudus.qbo.tax.code"].search(
        [("company_id", "=", company.id), ("rate", "=", 5), ("tax_group", "=", False)], limit=1
    )
    env["nexudus.qbo.tax.map"].search(
        [("company_id", "=", company.id), ("nexudus_name", "=", "Zero-rated")]
    ).qbo_tax_code_id = five
    env.cr.commit()
    say(f"  Near-misses mapped by hand: {len(events)} Event Revenue accounts, Zero-rated → {five.display_name}")


def prepare_company(env, nexudus_url, qbo_url, payments):
    """bin/demo_setup.py's steps, without its import, with automatic sending of invoices on."""
    import requests

    params = env["ir.config_parameter"].sudo()
    for key, value in {
        "nexudus_api_url": nexudus_url,
        "qbo_api_url": qbo_url,
        "intuit_authorize_url": f"{qbo_url}/connect/oauth2",
        "intuit_token_url": f"{qbo_url}/oauth2/v1/tokens/bearer",
        "intuit_revoke_url": f"{qbo_url}/v2/oauth2/tokens/revoke",
    }.items():
        params.set_param(f"nexudus_qbo_connector.{key}", value)
    params.set_param("web.base.url", os.environ.get("ODOO_URL", "http://127.0.0.1:8069"))
    params.set_param("web.base.url.freeze", "True")
    company = env.company
    company.write(
        {
            "nexudus_email": "admin@example.com",
            "nexudus_password": "secret",
            "qbo_environment": "sandbox",
            "qbo_client_id": "sim-client-id",
            "qbo_client_secret": "sim-client-secret",
        }
    )
    env.cr.commit()

    locations = company._nexudus_locations()  # "Test connection": every location served
    env.cr.commit()
    say(f"  Nexudus: {len(locations)} locations served ({', '.join(locations.mapped('name'))})")

    authorization = parse_qs(urlsplit(company._qbo_authorization_url()).query)
    env.cr.commit()  # the state's nonce
    consent = {key: values[-1] for key, values in authorization.items()}
    answer = requests.post(
        f"{qbo_url}/connect/oauth2", data={**consent, "action": "authorize"}, allow_redirects=False, timeout=10
    )
    redirect = parse_qs(urlsplit(answer.headers.get("Location", "")).query)
    if answer.status_code != 302 or "code" not in redirect:
        raise SystemExit(f"The QuickBooks simulator did not approve the connection: {answer.status_code} {answer.text}")
    company._qbo_finish_connect(redirect["code"][0], redirect["realmId"][0])
    env.cr.commit()
    say(f"  QuickBooks: connected to {company.qbo_company_name} (realm {company.qbo_realm_id})")

    company._nexudus_qbo_refresh_chart()
    env.cr.commit()
    maps = env["nexudus.qbo.account.map"].search([("company_id", "=", company.id)])
    without_item = maps.filtered(lambda m: m.qbo_account_id and not m.qbo_item_id and m.nexudus_type != "payments")
    if without_item:
        without_item.action_create_items()
    env.cr.commit()
    payments_account = maps.filtered(lambda m: m.nexudus_code == "PAY-001").qbo_account_id.filtered(
        "is_deposit_account"
    )[:1]
    no_tax = env["nexudus.qbo.tax.code"].search(
        [("company_id", "=", company.id), ("rate", "=", 0), ("tax_group", "=", False)], order="name", limit=1
    )
    company.write(
        {"nexudus_qbo_payments_account_id": payments_account.id, "nexudus_qbo_default_tax_code_id": no_tax.id}
    )
    env.cr.commit()
    ready = len(maps.filtered("ready"))
    say(
        f"  Mappings: {ready} of {len(maps)} account mappings ready ({len(without_item)} QuickBooks items created); "
        f"payments account {payments_account.display_name or 'none'}; default tax code {no_tax.display_name or 'none'}"
    )
    company.write(
        {
            "nexudus_qbo_send_payments": payments,
            "nexudus_qbo_reconcile_payments": payments,
            "nexudus_qbo_auto_pull_payments": payments,
            "nexudus_qbo_auto_send_invoices": True,
        }
    )
    env.cr.commit()
    say(
        "  Options: automatically send invoices ON; payment options (send, reconcile, pull) "
        + ("ON" if payments else "OFF")
    )
    return company


def utc_epoch(naive):
    return naive.replace(tzinfo=timezone.utc).timestamp() if naive else None


def utc_naive(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None)


def states(registry, company_id):
    with registry.cursor() as cr:
        cr.execute(
            "SELECT transfer_state, count(*) FROM nexudus_qbo_invoice WHERE company_id = %s GROUP BY 1", (company_id,)
        )
        return dict(cr.fetchall())


def next_wake(registry, cron_id):
    """(when, why) the job is next ready: its earliest trigger or its nextcall, naive UTC."""
    with registry.cursor() as cr:
        cr.execute("SELECT min(call_at) FROM ir_cron_trigger WHERE cron_id = %s", (cron_id,))
        trigger = cr.fetchone()[0]
        cr.execute("SELECT nextcall, active FROM ir_cron WHERE id = %s", (cron_id,))
        nextcall, active = cr.fetchone()
    if not active:
        return None, "the scheduled action was deactivated"
    if trigger and trigger < nextcall:
        return trigger, "trigger"
    return nextcall, "nextcall"


def budgets(registry):
    with registry.cursor() as cr:
        cr.execute("SELECT service, sum(requests), sum(throttles) FROM nexudus_qbo_rate_budget GROUP BY 1 ORDER BY 1")
        return {service: (requests, throttles) for service, requests, throttles in cr.fetchall()}


def drive(env, company, world_invoices, max_minutes):
    """Run the scheduled action as Odoo's cron worker would until nothing is left; returns what happened."""
    registry = env.registry
    IrCron = registry["ir.cron"]
    cron_id = env.ref(CRON).id
    env.cr.commit()
    with registry.cursor() as cr:
        cr.execute("SELECT coalesce(max(id), 0) FROM ir_cron_progress")
        first_progress = cr.fetchone()[0]
    started = time.time()
    deadline = started + max_minutes * 60
    cpu_started = time.process_time()
    runs = sleeps = 0
    slept = 0.0
    outcome = None
    while outcome is None:
        with registry.cursor() as cron_cr:
            job = IrCron._acquire_one_job(cron_cr, cron_id)
            if job:
                IrCron._process_job(cron_cr, job)
                cron_cr.commit()
                runs += 1
        counts = states(registry, company.id)
        mirrored, pending = sum(counts.values()), sum(counts.get(s, 0) for s in PENDING)
        now = time.time()
        if job:
            summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing mirrored"
            say(f"  [{now - started:7.1f}s] run {runs}: {mirrored}/{world_invoices} mirrored ({summary})")
        if runs and mirrored >= world_invoices and not pending:
            outcome = "done"
            break
        if now >= deadline:
            outcome = f"time cap reached ({max_minutes} min): {mirrored}/{world_invoices} mirrored, {pending} pending"
            break
        if job:
            continue
        wake, why = next_wake(registry, cron_id)
        if wake is None:
            outcome = f"stuck: {why}"
            break
        wait = utc_epoch(wake) - time.time()
        if now + wait > deadline:
            outcome = (
                f"stuck: the next run is at {wake} UTC ({why}, in {wait / 60:.0f} min, after the time cap) with "
                f"{mirrored}/{world_invoices} mirrored and {pending} pending"
            )
            break
        wait = max(wait, 0.0) + 0.2  # a ready job is acquired in the next loop (0.2 s: no busy loop)
        say(f"  [{now - started:7.1f}s] waiting {wait:.1f}s for the next run ({why})")
        sleeps += 1
        slept += wait
        time.sleep(wait)
    ended = time.time()
    with registry.cursor() as cr:
        cr.execute("SELECT count(*) FROM ir_cron_progress WHERE cron_id = %s AND id > %s", (cron_id, first_progress))
        calls = cr.fetchone()[0]
    return {
        "outcome": outcome,
        "started": started,
        "ended": ended,
        "cpu": time.process_time() - cpu_started,
        "runs": runs,
        "calls": calls,
        "sleeps": sleeps,
        "slept": slept,
    }


def money(value):
    return Decimal(str(value)).quantize(CENT)


def check_documents(env, company, documents, only=None):
    """Each sent invoice in QuickBooks exactly once (by marker), with Nexudus's total; returns (lines, ok).
    With ``only`` (Nexudus ids: the steady-state phase's), just those, and each of them must have been sent."""
    rows = env["nexudus.qbo.invoice"].search([("company_id", "=", company.id)])
    sent = rows.filtered(lambda r: r.transfer_state == "sent" and (only is None or r.nexudus_id in only))
    markers = Counter()
    totals = {}
    unmarked = 0
    for _entity, note, total in documents["qbo"]:
        found = MARKER.search(note)
        if not found:
            unmarked += 1
            continue
        if only is not None and int(found.group(1)) not in only:
            continue
        markers[int(found.group(1))] += 1
        totals[int(found.group(1))] = money(total)
    twice = sorted(i for i, n in markers.items() if n > 1)
    sent_ids = set(sent.mapped("nexudus_id"))
    missing = sorted(sent_ids - set(markers))
    unexpected = sorted(set(markers) - sent_ids)
    nexudus = documents["nexudus"]
    wrong = []
    by_currency = {}
    for row in sent:
        expected = abs(money(nexudus[str(row.nexudus_id)]))
        got = totals.get(row.nexudus_id)
        if got is not None and got != expected:
            wrong.append(f"{row.number}: QuickBooks {got}, Nexudus {expected}")
        pair = by_currency.setdefault(row.currency_code or "?", [Decimal(0), Decimal(0)])
        pair[0] += expected
        pair[1] += got or Decimal(0)
    not_sent = sorted(set(only) - sent_ids) if only is not None else []
    once = not twice and not missing and not unexpected and not not_sent
    lines = [
        f"  every {'issued' if only is not None else 'sent'} invoice in QuickBooks exactly once: "
        f"{'OK' if once else 'FAILED'} "
        + (f"({len(only) - len(not_sent)} of the {len(only)} issued sent, " if only is not None else "(")
        + f"{len(sent_ids)} sent, {sum(markers.values())} QuickBooks invoices and credit memos with a marker, "
        f"{len(twice)} twice, {len(missing)} missing, {len(unexpected)} not sent by Odoo, {unmarked} without marker)",
        f"  totals equal to Nexudus's: {'OK' if not wrong else 'FAILED'} ("
        + "; ".join(f"{c} Nexudus {n} / QuickBooks {q}" for c, (n, q) in sorted(by_currency.items()))
        + (f"; {len(wrong)} differ" if wrong else "")
        + ")",
    ]
    for what, ids in (("twice", twice), ("missing", missing), ("not sent by Odoo", unexpected), ("not sent", not_sent)):
        if ids:
            lines.append(f"    {what}: Nexudus ids {ids[:20]}{' …' if len(ids) > 20 else ''}")
    lines.extend(f"    {text}" for text in wrong[:10])
    return lines, once and not wrong


def reasons(env, company, state):
    rows = env["nexudus.qbo.invoice"].search([("company_id", "=", company.id), ("transfer_state", "=", state)])
    counts = Counter()
    for row in rows:
        lines = [line.strip() for line in (row.transfer_reason or "").splitlines() if line.strip()]
        head = lines[0] if lines else "(no reason)"
        if head.endswith(":") and len(lines) > 1:  # "Waiting for its mappings …:" then the first problem
            head = f"{head} {re.sub(r'[0-9A-Z]{3}-[0-9]+', '…', lines[1])}"
        counts[re.sub(r"\b(Invoice|Credit note) \S+", r"\1 …", head)[:150]] += 1
    return counts


def rate(count, seconds):
    return count / (seconds / 60) if seconds and seconds > 0 else float("nan")


def report(env, company, config, world_invoices, run, stats, documents):
    registry = env.registry
    env.cr.rollback()  # a fresh snapshot: every run committed in cursors of its own
    env.invalidate_all()
    counts = states(registry, company.id)
    with registry.cursor() as cr:
        cr.execute("SELECT max(create_date) FROM nexudus_qbo_invoice WHERE company_id = %s", (company.id,))
        last_mirrored = utc_epoch(cr.fetchone()[0])
        cr.execute(
            """SELECT direction, state, count(*) FROM nexudus_qbo_payment
                WHERE company_id = %s GROUP BY 1, 2 ORDER BY 1, 2""",
            (company.id,),
        )
        payments = cr.fetchall()
    sent, skipped, failed = (counts.get(s, 0) for s in ("sent", "skipped", "failed"))
    mirrored = sum(counts.values())
    total = run["ended"] - run["started"]
    import_start = stats["nexudus_first"] or run["started"]
    import_seconds = (last_mirrored - import_start) if last_mirrored else None
    send_seconds = (
        stats["qbo_last_created"] - stats["qbo_first_created"] if stats["qbo_first_created"] is not None else None
    )
    first_in_qbo = stats["qbo_first_created"] - run["started"] if stats["qbo_first_created"] is not None else None
    n = world_invoices
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    check_lines, checks_ok = check_documents(env, company, documents)
    ok = checks_ok and run["outcome"] == "done"

    say()
    say(f"Benchmark: {n} Nexudus invoices, {config['customers']} customers, 3 locations (profile uk, seed "
        f"{config['seed']}); both simulators at their documented limits")  # fmt: skip
    say(f"  outcome: {run['outcome']}")
    say(
        f"  end to end: {total / 60:.2f} min for {n} invoices = {rate(n, total):.0f} invoices/min "
        f"({rate(sent, total):.0f} sent/min); {run['runs']} runs of the scheduled action, {run['calls']} calls, "
        f"{run['sleeps']} waits for a trigger ({run['slept']:.0f}s asleep)"
    )
    say(
        f"  import: {mirrored} mirrored in {import_seconds:.1f}s = {rate(mirrored, import_seconds):.0f} invoices/min "
        "(first Nexudus request to last invoice mirrored)"
        if import_seconds is not None
        else "  import: nothing mirrored"
    )
    say(
        f"  send: {stats['qbo_created']} created in QuickBooks in {send_seconds:.1f}s = "
        f"{rate(stats['qbo_created'], send_seconds):.0f} invoices/min (first to last created)"
        if send_seconds is not None
        else "  send: nothing created in QuickBooks"
    )
    say(
        f"  first invoice in QuickBooks after {first_in_qbo:.1f}s"
        if first_in_qbo is not None
        else "  no invoice in QuickBooks"
    )
    say(
        f"  Nexudus: {stats['nexudus_requests']} API requests ({stats['nexudus_writes']} writes) = "
        f"{stats['nexudus_requests'] / n:.3f} per invoice; {stats['nexudus_throttled']} refused with 409"
    )
    by = ", ".join(f"{k} {v}" for k, v in sorted(stats["qbo_throttled_by"].items()))
    say(
        f"  QuickBooks: {stats['qbo_requests']} API requests = {stats['qbo_requests'] / n:.3f} per invoice "
        f"({stats['qbo_requests'] / sent if sent else float('nan'):.3f} per invoice sent), {stats['qbo_oauth']} "
        f"OAuth token calls; {stats['qbo_throttled']} refused with 429{f' ({by})' if by else ''}"
    )
    for t, method, path, seconds in stats["nexudus_refusals"][:10]:
        say(f"    409 at {t - run['started']:.1f}s: {method} {path} (Retry-After {seconds})")
    kinds = sorted(stats["qbo_kinds"].items(), key=lambda item: -item[1])
    say("  QuickBooks requests: " + ", ".join(f"{k} {v}" for k, v in kinds))
    say("  QuickBooks writes: " + ", ".join(f"{k} {v}" for k, v in sorted(stats["qbo_writes"].items())))
    counted = []
    for service, (requests, throttles) in sorted(budgets(registry).items()):
        requests_before, throttles_before = run["budgets"].get(service, (0, 0))
        counted.append(f"{service} {requests - requests_before} requests, {throttles - throttles_before} throttles met")
    say("  the connector's own count (nexudus.qbo.rate.budget): " + "; ".join(counted))
    setup = run["setup"]
    say(
        f"  set-up (not counted above): Nexudus {setup['nexudus_requests']} API requests, "
        f"{setup['nexudus_throttled']} refused; QuickBooks {setup['qbo_requests']} API requests, "
        f"{setup['qbo_throttled']} refused"
    )
    for _t, method, path, seconds in setup["nexudus_refusals"][:10]:
        say(f"    409 during the set-up: {method} {path} (Retry-After {seconds})")
    say(
        f"  Odoo CPU: {run['cpu']:.1f}s = {run['cpu'] * 1000 / n:.1f} ms per invoice; peak memory (ru_maxrss) "
        f"{rss_mb:.0f} MB; simulators' CPU {stats['cpu']:.1f}s (their own process)"
    )
    say(f"  invoices: {sent} sent, {skipped} skipped, {failed} failed"
        + "".join(f", {counts[s]} {s}" for s in sorted(counts) if s not in ("sent", "skipped", "failed")))  # fmt: skip
    for state in ("skipped", "failed"):
        for text, count in reasons(env, company, state).most_common(8):
            say(f"    {state} {count}: {text}")
    if payments:
        say("  payments: " + ", ".join(f"{d} {s} {c}" for d, s, c in payments))
    say("Checks:")
    for line in check_lines:
        say(line)

    def fmt(value, spec):
        return "–" if value is None else format(value, spec)

    header = (
        "| Invoices (customers) | End to end inv/min | Import inv/min | Send inv/min | First in QBO | "
        "Nexudus req/inv | QBO req/inv | 409 / 429 | Odoo CPU ms/inv | Peak RSS | Sent / skipped / failed | Checks |"
    )
    row = (
        f"| {n:,} ({config['customers']:,}) | {rate(n, total):.0f} | "
        f"{fmt(rate(mirrored, import_seconds) if import_seconds else None, '.0f')} | "
        f"{fmt(rate(stats['qbo_created'], send_seconds) if send_seconds else None, '.0f')} | "
        f"{fmt(first_in_qbo, '.0f')}{'' if first_in_qbo is None else ' s'} | {stats['nexudus_requests'] / n:.3f} | "
        f"{stats['qbo_requests'] / n:.2f} | {stats['nexudus_throttled']} / {stats['qbo_throttled']} | "
        f"{run['cpu'] * 1000 / n:.1f} | {rss_mb:.0f} MB | {sent} / {skipped} / {failed} | "
        f"{'pass' if ok else 'FAIL'} |"
    )
    say_table(header, row)
    return ok


def issue_steady(env, company, simulators, count):
    """Issue ``count`` invoices now in the Nexudus simulator, round-robin over the customers that already have
    an invoice sent (so a customer linked in QuickBooks), as a billing run would (the seeded invoices' builder:
    their locations, accounts and tax rates), avoiding the accounts and tax rates not mapped in some location (so
    that none waits for a mapping). Returns (Nexudus ids, number of customers, what was avoided)."""
    env.cr.rollback()
    env.invalidate_all()
    account_maps = env["nexudus.qbo.account.map"].search([("company_id", "=", company.id)])
    tax_maps = env["nexudus.qbo.tax.map"].search([("company_id", "=", company.id)])
    avoid = sorted(
        set(account_maps.filtered(lambda m: not m.ready).mapped("nexudus_code"))
        | set(tax_maps.filtered(lambda m: not m.qbo_tax_code_id).mapped("nexudus_name"))
    )
    sent = env["nexudus.qbo.invoice"].search([("company_id", "=", company.id), ("transfer_state", "=", "sent")])
    customers = sorted(set(sent.mapped("nexudus_coworker_id")) - {0})
    if not customers:
        raise SystemExit("Steady state: no customer has an invoice in QuickBooks after the first import")
    issued = [simulators.ask(f"issue {customers[i % len(customers)]} {json.dumps(avoid)}")["id"] for i in range(count)]
    return issued, min(count, len(customers)), avoid


def report_steady(env, company, config, count, customers, issued, run, stats, documents):
    """The steady-state phase alone: its throughput, requests per invoice issued, throttles and checks."""
    env.cr.rollback()
    env.invalidate_all()
    rows = env["nexudus.qbo.invoice"].search([("company_id", "=", company.id), ("nexudus_id", "in", issued)])
    counts = Counter(rows.mapped("transfer_state"))
    sent, skipped, failed = (counts.get(s, 0) for s in ("sent", "skipped", "failed"))
    total = run["ended"] - run["started"]
    check_lines, checks_ok = check_documents(env, company, documents, only=set(issued))
    ok = checks_ok and run["outcome"] == "done"
    say()
    say(
        f"Steady state: {count} invoices issued in Nexudus for {customers} customers already in QuickBooks, "
        "the scheduled action triggered once (as its next run or a webhook would) and driven until all are moved"
    )
    say(f"  outcome: {run['outcome']}")
    say(
        f"  end to end: {total:.1f}s for {count} invoices = {rate(count, total):.0f} invoices/min; {run['runs']} "
        f"runs of the scheduled action, {run['calls']} calls, {run['sleeps']} waits ({run['slept']:.0f}s asleep)"
    )
    say(
        f"  Nexudus: {stats['nexudus_requests']} API requests ({stats['nexudus_writes']} writes) = "
        f"{stats['nexudus_requests'] / count:.3f} per invoice; {stats['nexudus_throttled']} refused with 409"
    )
    by = ", ".join(f"{k} {v}" for k, v in sorted(stats["qbo_throttled_by"].items()))
    say(
        f"  QuickBooks: {stats['qbo_requests']} API requests = {stats['qbo_requests'] / count:.3f} per invoice, "
        f"{stats['qbo_oauth']} OAuth token calls; {stats['qbo_throttled']} refused with 429{f' ({by})' if by else ''}"
    )
    kinds = sorted(stats["qbo_kinds"].items(), key=lambda item: -item[1])
    say("  QuickBooks requests: " + ", ".join(f"{k} {v}" for k, v in kinds))
    say("  QuickBooks writes: " + ", ".join(f"{k} {v}" for k, v in sorted(stats["qbo_writes"].items())))
    say(f"  Odoo CPU: {run['cpu']:.1f}s = {run['cpu'] * 1000 / count:.1f} ms per invoice")
    say(f"  invoices issued: {sent} sent, {skipped} skipped, {failed} failed"
        + "".join(f", {counts[s]} {s}" for s in sorted(counts) if s not in ("sent", "skipped", "failed"))
        + (f", {count - len(rows)} not mirrored" if len(rows) < count else ""))  # fmt: skip
    say("Checks (steady state):")
    for line in check_lines:
        say(line)
    header = (
        "| Invoices issued (customers) | End to end inv/min | Nexudus req/inv | QBO req/inv | 409 / 429 | "
        "Odoo CPU ms/inv | Sent / skipped / failed | Checks |"
    )
    row = (
        f"| {count:,} ({customers:,}) after {config['invoices']:,} ({config['customers']:,}) | "
        f"{rate(count, total):.0f} | {stats['nexudus_requests'] / count:.3f} | {stats['qbo_requests'] / count:.3f} | "
        f"{stats['nexudus_throttled']} / {stats['qbo_throttled']} | {run['cpu'] * 1000 / count:.1f} | "
        f"{sent} / {skipped} / {failed} | {'pass' if ok else 'FAIL'} |"
    )
    say_table(header, row)
    return ok


def profiled(path, work, *args):
    """``work(*args)``, under cProfile with its statistics written to ``path`` when one is given."""
    if not path:
        return work(*args)
    profiler = cProfile.Profile()
    try:
        return profiler.runcall(work, *args)
    finally:
        profiler.dump_stats(path)
        say(f"Profile of the first import written to {path} (python3 -m pstats {path})")


def main(env):
    config = {
        "invoices": int(os.environ.get("BENCH_INVOICES", "2000")),
        "customers": int(os.environ.get("BENCH_CUSTOMERS", "600")),
        "seed": int(os.environ.get("BENCH_SEED", "1")),
        "max_minutes": float(os.environ.get("BENCH_MAX_MINUTES", "60")),
        "payments": os.environ.get("BENCH_PAYMENTS", "1") != "0",
        "map_near_misses": os.environ.get("BENCH_MAP_NEAR_MISSES", "0") == "1",
        "steady": int(os.environ.get("BENCH_STEADY", "0")),
        "profile": os.environ.get("BENCH_PROFILE", ""),
    }
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the simulators speak HTTP on loopback
    sizes = {
        "seed": config["seed"],
        "profile": "uk",
        "locations": 3,
        "customers": config["customers"],
        "invoices": config["invoices"],
    }
    say(f"Starting both simulators at their documented limits: {sizes}")
    simulators = Simulators(os.environ["BENCH_REPO_ROOT"], sizes)
    try:
        world_invoices = simulators.ready["invoices"]
        say("Preparing the company as bin/demo_setup.py does")
        company = prepare_company(env, simulators.ready["nexudus"], simulators.ready["qbo"], config["payments"])
        if config["map_near_misses"]:
            map_near_misses(env, company)
        setup = simulators.ask("mark")
        say(f"Running the scheduled action until every invoice is moved (cap {config['max_minutes']:g} min)")
        before = budgets(env.registry)
        run = profiled(config["profile"], drive, env, company, world_invoices, config["max_minutes"])
        run.update(setup=setup, budgets=before)
        stats = simulators.ask("stats")
        documents = simulators.ask("documents")
        ok = report(env, company, config, world_invoices, run, stats, documents)
        if config["steady"] and run["outcome"] == "done":
            simulators.ask("mark")  # the phase's requests, writes and throttles counted from here
            say()
            say(f"Steady state: issuing {config['steady']} invoices in Nexudus for customers already in QuickBooks")
            issued, customers, avoided = issue_steady(env, company, simulators, config["steady"])
            say(f"  {len(issued)} issued; their lines avoid what is not mapped: {', '.join(avoided) or 'nothing'}")
            env.ref(CRON)._trigger()
            before = budgets(env.registry)
            steady = drive(env, company, world_invoices + len(issued), config["max_minutes"])
            steady.update(budgets=before)
            stats = simulators.ask("stats")
            documents = simulators.ask("documents")
            ok = report_steady(env, company, config, len(issued), customers, issued, steady, stats, documents) and ok
        elif config["steady"]:
            say(f"Steady state skipped: the first import did not finish ({run['outcome']})")
    finally:
        simulators.close()
    if not ok:
        raise SystemExit(1)


if "env" in globals():
    main(env)
elif __name__ == "__main__" and sys.argv[1:2] == ["--serve-simulators"]:
    serve_simulators(json.loads(sys.argv[2]))
