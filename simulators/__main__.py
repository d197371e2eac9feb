"""Run both simulators until interrupted: ``python3 -m simulators --profile uk --invoices 200``.

Prints one ``READY`` line with both URLs once they answer, for the demo script to read. ``--demo`` also
switches off QuickBooks' "Automatically apply credits" and "Automatically apply payments" in the simulated
company (the pre-flight checks refuse to transfer with them on; with a real company the operator does it
in QuickBooks) and says so on a ``DEMO`` line. The Nexudus simulator enforces Nexudus's documented request
limits unless ``--no-nexudus-limits`` is given.
"""

import argparse
import signal
import threading

from .nexudus import NexudusLimits
from .nexudus.server import NexudusSimulator
from .qbo.server import QboSimulator
from .world import build_world


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["uk", "us"], default="uk")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--locations", type=int, default=3)
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--invoices", type=int, default=120)
    parser.add_argument("--nexudus-port", type=int, default=8070)
    parser.add_argument("--qbo-port", type=int, default=8071)
    parser.add_argument("--demo", action="store_true", help="switch QuickBooks' auto-apply preferences off")
    parser.add_argument(
        "--no-nexudus-limits",
        action="store_true",
        help="switch off Nexudus's documented request limits (on by default: 1 per 100 ms, 120/min, ...)",
    )
    parser.add_argument(
        "--nexudus-throttle-status",
        type=int,
        choices=[409, 429],
        default=409,
        help="how Nexudus refuses a throttled request: 409 + Retry-After as documented, or 429 'Wait N seconds'",
    )
    args = parser.parse_args()

    world = build_world(
        seed=args.seed, profile=args.profile, locations=args.locations, customers=args.customers, invoices=args.invoices
    )
    limits = NexudusLimits.unlimited() if args.no_nexudus_limits else None  # None: the documented limits
    nexudus = NexudusSimulator(
        world, port=args.nexudus_port, limits=limits, throttle_status=args.nexudus_throttle_status
    ).start()
    qbo = QboSimulator(world, port=args.qbo_port).start()
    if args.demo:
        qbo.set_preferences("SalesFormsPrefs", AutoApplyCredit=False, AutoApplyPayments=False)
        print(
            "DEMO QuickBooks company: 'Automatically apply credits' and 'Automatically apply payments' switched off",
            flush=True,
        )
    print(f"READY nexudus={nexudus.url} qbo={qbo.url}", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    nexudus.stop()
    qbo.stop()


if __name__ == "__main__":
    main()
