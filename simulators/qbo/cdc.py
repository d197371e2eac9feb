"""Change data capture: ``GET /v3/company/{realmId}/cdc?entities=Payment,Invoice&changedSince=<ISO-8601>``.

What QBO documents (research §3.2, §5.8): full payloads of the objects whose ``MetaData.LastUpdatedTime`` is
after ``changedSince``, one ``QueryResponse`` entry per requested entity that changed (in the order requested),
rows ordered by ``LastUpdatedTime`` with deleted objects after the others as
``{"domain": "QBO", "status": "Deleted", "Id": ..., "MetaData": {"LastUpdatedTime": ...}}``; nothing changed is
``{"CDCResponse": [{"QueryResponse": [{}]}]}``. Voided transactions are ordinary rows (amounts zeroed, "Voided"
note). The look-back is at most 30 days before the simulator's now (``now()``, which honours ``clock_offset``).

At most ``sim.cdc_cap`` (1,000) objects come back in all; when more changed, the oldest ones do. QBO offers no
paging here: a client that gets the cap must ask again with a shorter window (later ``changedSince``).

Simulator choices where the research is silent (codes and wording of the faults, all HTTP 400):

* a ``changedSince`` more than 30 days back is code 500 "Unsupported Operation" with the detail a public
  client reported from QBO ("Operation cdc with changedSince date ... which is older than fixed days is not
  supported."); JournalCode, TaxAgency, TimeActivity, TaxCode and TaxRate are code 500 too;
* a missing ``entities`` or ``changedSince`` is 2020 "Required param missing", an unreadable ``changedSince``
  2020 "Invalid date", an entity the company does not have 2170 "Invalid Enumeration";
* ``changedSince`` may be a date (midnight) or a date-time; one without an offset is read in Pacific time, as
  QBO stamps its own times; entity names are matched ignoring case.
"""

import copy
import re
from datetime import datetime, timedelta

from simulators.qbo import faults
from simulators.qbo.data import qbo_timestamp
from simulators.qbo.query import PACIFIC

LOOK_BACK = timedelta(days=30)
CDC_CAP = 1000
NOT_SUPPORTED = ("JournalCode", "TaxAgency", "TimeActivity", "TaxCode", "TaxRate")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?")


def changed_since(text):
    """The aware datetime ``changedSince`` names, or None when it is not an ISO-8601 date or date-time."""
    text = text.strip()
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=PACIFIC)


def last_updated(row):
    return datetime.fromisoformat(row["MetaData"]["LastUpdatedTime"])


class CdcMixin:
    """The CDC route; the simulator provides ``company``, ``deleted``, ``api``, ``fault``, ``ok`` and ``moment``."""

    def init_cdc(self):
        self.cdc_cap = CDC_CAP  # objects in one CDC answer at most; tests lower it
        self.cdc_calls = []  # (entities, changedSince) as sent, of every CDC request that passed the gateway

    def cdc_routes(self, company_path):
        self.route("GET", company_path + r"/cdc", self.api(self.cdc))

    def cdc(self, request):
        entities, since = request.params.get("entities", ""), request.params.get("changedSince", "")
        self.cdc_calls.append((entities, since))
        try:
            names = self.cdc_entities(entities)
            moment = self.cdc_since(since)
        except faults.WriteRejected as exc:
            return self.fault(exc.code, exc.message, exc.detail)
        changes = sorted(self.cdc_changes(names, moment), key=lambda change: change[0])[: self.cdc_cap]
        groups = []
        for name in names:
            rows = [row for _, entity, deleted, row in changes if entity == name and not deleted]
            rows += [row for _, entity, deleted, row in changes if entity == name and deleted]
            if rows:
                groups.append({name: rows, "startPosition": 1, "maxResults": len(rows), "totalCount": len(rows)})
        return self.ok({"CDCResponse": [{"QueryResponse": groups or [{}]}]})

    def cdc_entities(self, text):
        """The canonical entity names ``entities`` lists, in its order, without repeats."""
        requested = [part.strip() for part in text.split(",") if part.strip()]
        if not requested:
            raise faults.required("entities")
        known = self.company.queryable | {name.lower(): name for name in NOT_SUPPORTED}
        names = []
        for part in requested:
            name = known.get(part.lower())
            if name is None:
                raise faults.WriteRejected(
                    "2170", "Invalid Enumeration", f"Invalid Enumeration : entities {part!r} is not a QBO entity"
                )
            if name in NOT_SUPPORTED:
                raise faults.unsupported_operation("cdc", name)
            if name not in names:
                names.append(name)
        return names

    def cdc_since(self, text):
        """``changedSince`` read, and checked to lie within the look-back window."""
        if not text.strip():
            raise faults.required("changedSince")
        moment = changed_since(text)
        if moment is None:
            raise faults.invalid_date("changedSince", text)
        if moment < self.moment() - LOOK_BACK:
            raise faults.WriteRejected(
                "500",
                "Unsupported Operation",
                f"Operation cdc with changedSince date {text} which is older than fixed days is not supported.",
            )
        return moment

    def cdc_changes(self, names, since):
        """(moment, entity, deleted, row) of every object of ``names`` changed after ``since``."""
        for name in names:
            for row in self.company.table(name).rows.values():
                if last_updated(row) > since:
                    yield last_updated(row), name, False, copy.deepcopy(row)
        for name, row_id, moment in self.deleted:
            moment = moment.replace(microsecond=0)  # as precise as LastUpdatedTime
            if name in names and moment > since:
                stamp = {"LastUpdatedTime": qbo_timestamp(moment)}
                yield moment, name, True, {"domain": "QBO", "status": "Deleted", "Id": row_id, "MetaData": stamp}
