"""One seed of bin/faults, run inside ``odoo shell`` on a fresh database (FAULT_REPO_ROOT, FAULT_SEED, FAULT_INVOICES
in the environment): both simulators with the seed's fault plan, the company prepared, the scheduled action driven
until quiet (tests/addon/fault_driver.py), then the checks. Prints a ``RESULT`` line; exits 1 when a check fails.
"""

import os
import sys
import time

sys.path.insert(0, os.environ["FAULT_REPO_ROOT"])
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the simulators speak HTTP on loopback

from simulators.chaos import FaultRates  # noqa: E402
from tests.addon.fault_driver import SIZES, Driver, check, prepare_company, start_simulators  # noqa: E402


def say(text=""):
    print(text, flush=True)


def main(env):
    seed = int(os.environ["FAULT_SEED"])
    sizes = {**SIZES, "invoices": int(os.environ.get("FAULT_INVOICES", SIZES["invoices"]))}
    env.cr.commit()
    nexudus, qbo = start_simulators(seed, sizes)
    if os.environ.get("FAULT_NONE") == "1":  # the same seed without faults, for comparison
        qbo.fault_plan.rates = FaultRates.none()
    try:
        started = time.time()
        company_id = prepare_company(env.registry, nexudus, qbo)
        driver = Driver(env.registry, company_id, nexudus, qbo, say=say)
        outcome = driver.run()
        problems, counts = check(env.registry, company_id, nexudus, qbo, driver.person_payments)
    finally:
        nexudus.stop()
        qbo.stop()
    plan = qbo.fault_plan
    ok = outcome == "quiet" and not problems
    say(f"seed {seed}: {outcome} after {driver.runs} runs in {time.time() - started:.0f}s")
    say(f"  faults injected: {plan.summary()} (QuickBooks requests {len(qbo.request_log)}, "
        f"Nexudus {len(nexudus.request_log)})")  # fmt: skip
    say("  ended: " + ", ".join(f"{n} {what}" for what, n in sorted(counts.items())))
    for problem in problems:
        say(f"  FAILED {problem}")
    faults = sum(plan.injected.values())
    say(f"RESULT seed={seed} result={'pass' if ok else 'FAIL'} runs={driver.runs} faults={faults} "
        f"problems={len(problems)} kinds={plan.summary().replace(' ', '=').replace(',=', ',')}")  # fmt: skip
    if not ok:
        raise SystemExit(1)


main(env)
