import logging
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools import batching
from ..tools.advisory_locks import advisory_locks, try_transaction_lock
from ..tools.errors import RETRYABLE, THROTTLED, ApiError, ThrottledError, TransientError, policy
from ..tools.notifications import notification
from ..tools.texts import translated
from ..tools.transferability import summary

_logger = logging.getLogger(__name__)

CRON = "nexudus_qbo_connector.ir_cron_nexudus_qbo_sync"
MANAGER = "nexudus_qbo_connector.group_nexudus_qbo_manager"
QUEUE_WRITE = "nexudus_qbo_queue_write"  # the context key that marks the connector's own code (see ``_as_connector``)
DONE_BY_HAND = "done_by_hand"
BACKGROUND_THRESHOLD = 100  # a click on more rows than this hands them to the scheduled action
# The queue's fields every transfer row has (the mixin's): each model adds its own to them.
QUEUE_FIELDS = (
    "attempts",
    "request_revision",
    "request_id",
    "last_transfer_at",
    "tried_run_id",
    "requested_by_id",
    "batch_request_id",
    "batch_item_id",
)


class _ConnectorMark:
    """The value of the ``QUEUE_WRITE`` context key: the one object that lets code write the queue's fields.

    It cannot come from a client. Every RPC route (``/json/2/<model>/<method>``, ``/web/dataset/call_kw``,
    ``/web/dataset/call_button``, XML-RPC and JSON-RPC ``execute_kw``) builds the context of the call from
    the request body, i.e. from decoded JSON or XML-RPC: strings, numbers, booleans, lists and dicts. The check
    is by identity (``is CONNECTOR``), so no value a client sends, whatever it is, passes it; and the check
    also wants a superuser environment, which no RPC route gives. Copies keep the identity.
    """

    __slots__ = ()

    def __repr__(self):
        return "<the Nexudus–QuickBooks connector>"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return "CONNECTOR"  # pickled by name: unpickled, it is this same object


CONNECTOR = _ConnectorMark()
OUTCOMES = "nexudus_qbo_outcomes"  # the context key of the action's outcome counter
# What a row read from Nexudus came to (at most one a row), then what became of it (at most one, the last).
READ_KINDS = ("read", "updated", "refreshed")
OUTCOME_ORDER = ("read", "updated", "refreshed", "ready", "created", "recorded", "voided", "already", "to_send",
                 "waiting", "held", "left_out", "attention", "failed", "later", "background")  # fmt: skip
DONE_KINDS = {"read", "updated", "refreshed", "ready", "created", "recorded", "voided", "background"}
# Whose reason a warning gives first.
REASON_ORDER = ("failed", "waiting", "held", "attention", "left_out", "later", "already")


class Outcomes:
    """What one action did, row by row, for its notification: each row counts once under what it was read
    as (new, updated, refreshed from Nexudus) and once under what became of it (the last outcome noted),
    with the reason given for it. Carried in the context under ``OUTCOMES``; hashed by identity."""

    def __init__(self):
        self.read, self.became, self.reasons = {}, {}, {}

    def note(self, rows, kind, reason=None):
        for row in rows:
            key = (row._name, row.id)
            if kind in READ_KINDS:
                self.read[key] = kind
                continue
            self.became[key] = kind
            self.reasons.pop(key, None)  # kept in the order the rows reached their outcome
            if reason:
                self.reasons[key] = reason

    def models(self):
        return sorted({name for name, _id in (*self.read, *self.became)})

    def counts(self, model_name):
        """How many rows of ``model_name`` came to each outcome."""
        return Counter(kind for (name, _id), kind in (*self.read.items(), *self.became.items()) if name == model_name)

    def first_reason(self):
        """The reason of the first row whose outcome comes first in ``REASON_ORDER``."""
        for kind in REASON_ORDER:
            reason = next((r for key, r in self.reasons.items() if self.became.get(key) == kind), None)
            if reason:
                return reason
        return None


class NexudusQboTransferMixin(models.AbstractModel):
    """What invoices and payments share as rows that are at once a queue and a log: running a person's
    click in a transaction of its own, committing step by step, pausing for a service that asks to wait,
    and telling the person what came of it.

    Throttle policy (both services, every call): a 409/429, or a spent request budget, raises
    ThrottledError before or instead of the call; the step that met it stops, everything committed so far
    stays, no further request goes to that service until its wait is over (the shared budget refuses them
    without a call), and the scheduled action is triggered for when the wait ends.
    """

    _name = "nexudus.qbo.transfer.mixin"
    _description = "Nexudus–QuickBooks transfer row"
    _state_field = "state"
    _reason_field = "reason"
    # The queue's fields: the connector's record of where each row stands in both services. Each model lists
    # its own after the mixin's (``QUEUE_FIELDS``): only the connector's code writes them (``_check_queue_fields``).
    _queue_fields = QUEUE_FIELDS
    # The states a Manager may close with "Mark as dealt with" (the others are final already).
    _hand_states = ()
    _lock_namespace = None  # the class of the advisory lock a worker holds on a row it moves

    attempts = fields.Integer(readonly=True)
    request_revision = fields.Integer(
        readonly=True, help="Bumped after QuickBooks refused a request, so the next attempt is a new request."
    )
    request_id = fields.Char("Request ID", readonly=True, copy=False)
    last_transfer_at = fields.Datetime("Last transfer", readonly=True, copy=False)
    tried_run_id = fields.Many2one(
        "nexudus.qbo.run", "Last tried in run", readonly=True, copy=False, index="btree_not_null", ondelete="set null"
    )
    batch_request_id = fields.Char(
        "Batch request ID",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The QuickBooks batch request that carried the row last: a lost answer is looked up for the whole batch.",
    )
    batch_item_id = fields.Char("Batch item ID", readonly=True, copy=False, help="The row's bId in its batch request.")
    requested_by_id = fields.Many2one(
        "res.users",
        "Handed to the scheduled action by",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The person whose click on many rows the scheduled action carries out: told when it is done.",
    )

    # -- the queue's fields are the connector's ----------------------------------------------------
    # A person moves a row with the buttons (Send, Retry, Mark as dealt with), whose methods check the
    # person's rights, then do the work as the connector: ``_as_connector()``, a superuser environment whose
    # context carries ``CONNECTOR``. Anything else writing a queue field — a user's ``write`` or ``create``
    # over RPC, an import of a file, a server action, other code with or without sudo — is refused.

    def _as_connector(self):
        """These records as the connector's own code works on them: as superuser, marked as the connector.
        Only the connector's entry points call it (the scheduled action, a person's click once its access
        is checked, Mark as dealt with); the context's defaults are dropped, so that nothing a client put in
        the click's context (``default_transfer_state``…) gets into the rows the connector creates."""
        context = {key: value for key, value in self.env.context.items() if not key.startswith("default_")}
        # Replaced, not updated: updating would keep the defaults.
        return self.sudo().with_context({**context, QUEUE_WRITE: CONNECTOR})  # pylint: disable=context-overridden

    def _is_connector(self):
        return self.env.su and self.env.context.get(QUEUE_WRITE) is CONNECTOR

    def _check_queue_fields(self, names):
        """Refuse, naming them, the queue's fields among ``names`` unless the connector writes them."""
        if self._is_connector():
            return
        touched = [name for name in self._queue_fields if name in names]
        if not touched:
            return
        labels = ", ".join(f"“{self._fields[name]._description_string(self.env)}” ({name})" for name in touched)
        raise AccessError(
            self.env._(
                "Only the connector writes %(fields)s of a %(model)s: it is its record of what was done in "
                "QuickBooks and Nexudus. Use the buttons instead: Send to QuickBooks (Send, for a payment) or Retry "
                "to have the connector move it; a Manager can “Mark as dealt with”, saying why, what was settled "
                "outside the connector.",
                fields=labels,
                model=self._description,
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        defaults = {key.removeprefix("default_") for key in self.env.context if key.startswith("default_")}
        self._check_queue_fields(defaults.union(*vals_list))
        return super().create(vals_list)

    def write(self, vals):
        self._check_queue_fields(vals)
        return super().write(vals)

    # -- Mark as dealt with ------------------------------------------------------------------------
    def action_mark_dealt_with(self):
        """Open the Mark as dealt with dialog (Managers): it asks why, then ``_mark_done_by_hand``."""
        self._check_hand_rights()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Mark as dealt with"),
            "res_model": "nexudus.qbo.mark.dealt.with",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids},
        }

    def _check_hand_rights(self):
        if not self.env.user.has_group(MANAGER):
            raise AccessError(
                self.env._("Only a Nexudus–QuickBooks Manager can mark invoices and payments as dealt with.")
            )
        self.check_access("write")

    def _mark_done_by_hand(self, reason):
        """A Manager settled these rows outside the connector (in QuickBooks, Nexudus or both): they say so
        (*Dealt with by hand*), the connector no longer moves them, and the chatter keeps who and why."""
        self._check_hand_rights()
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Say why the connector should no longer move it."))
        labels = dict(self._fields[self._state_field]._description_selection(self.env))
        final = self.filtered(lambda r: r[self._state_field] not in self._hand_states)
        if final:
            raise UserError(
                self.env._(
                    "Nothing is left for the connector to do for %(rows)s (%(state)s): only what waits, failed or "
                    "needs a person can be marked as dealt with.",
                    rows=", ".join(final.mapped("display_name")),
                    state=", ".join(sorted({labels[s] for s in final.mapped(self._state_field)})),
                )
            )
        user = self.env.user.name
        for row in self._as_connector():
            row._lock_for_hand()
            text = self.env._(
                "Dealt with by hand by %(user)s (was “%(state)s”): %(reason)s The connector no longer moves it.",
                user=user,
                state=labels[row[self._state_field]],
                reason=reason if reason.endswith((".", "!", "?")) else f"{reason}.",
            )
            row.write({self._state_field: DONE_BY_HAND, self._reason_field: text})
            row.message_post(body=text)
            if "activity_ids" in row._fields:  # the to-do the connector left for a Manager is done
                row.activity_ids.action_feedback(feedback=text)

    def _lock_for_hand(self):
        """Refuse while a worker is moving the row (its advisory lock, ``_lock_namespace``): its answer would
        be written over what the person decided. The lock is held until the click's transaction ends."""
        if not try_transaction_lock(self.env.cr, self._lock_namespace, self.id):
            raise UserError(
                self.env._("%(row)s is being sent right now: try again in a minute.", row=self.display_name)
            )

    @contextmanager
    def _locked(self):
        """Yield those of these rows no other worker is moving, each under a session advisory lock
        (``_lock_namespace``) held until the block ends; the others are noted as left to that worker. The
        block commits what it did; on an error it is rolled back before the locks are released, so that no
        other worker takes a row while this transaction still holds an uncommitted write of it."""
        with advisory_locks(self.env.cr, self._lock_namespace, *self.ids) as held:
            for row in self.filtered(lambda r: r.id not in held):
                row._note("later", self.env._("%(name)s is being sent by another run.", name=row.display_name))
            yield self.browse(held)
            if held:
                self._commit()

    def _fresh(self):
        """These rows as the worker that moved them last left them: a new transaction, the cache dropped."""
        self._commit()
        self.invalidate_recordset()
        return self

    # -- batch requests: the same protocol for many rows at once ---------------------------------------
    def _send_in_batch(self, context, payloads, kind):
        """Commit these rows *Sending* in one batch request (its id derived from the realm, ``kind`` and each
        row's key and revision; each row's ``bId`` its position), then send it (``_call_batch``)."""
        keys = sorted(f"{row._batch_key()}:{row.request_revision}" for row in self)
        batch_id = batching.request_id(context.realm, kind, *keys)
        now = fields.Datetime.now()
        for position, row in enumerate(self, 1):
            row.write(
                {
                    self._state_field: "sending",
                    "request_id": row._request_id(context),
                    "batch_request_id": batch_id,
                    "batch_item_id": batching.item_id(position),
                    "attempts": row.attempts + 1,
                    "last_transfer_at": now,
                    **row._sending_values(),
                }
            )
        self._commit()  # the rows say "sending" before the request leaves
        self._call_batch(context, payloads)

    def _call_batch(self, context, payloads):
        """Send the batch these rows are in (their ``batch_request_id`` and ``batch_item_id``; a repeated
        request gets QuickBooks' first answer) and record each row's answer: its document, or its refusal.
        Asked to wait: nothing reached QuickBooks, the rows are to send again. Unanswered: they stay
        *Sending*, looked up before anything is sent again. Refused as a whole: each goes on its own, so
        that a refusal names its row."""
        items = [(row.batch_item_id, "create", row._batch_item(payloads[row])) for row in self]
        try:
            answers = context.client.batch_documents(items, request_id=self[:1].batch_request_id)
        except ThrottledError:
            self._unbatch()
            raise
        except TransientError as exc:
            self._unanswered(exc)
            return
        except ApiError:
            self._unbatch()
            self._move_each(lambda row: row._send_alone(context))
            return
        for row in self:
            document, fault = answers.get(row.batch_item_id) or (None, None)
            if fault:
                row._record_failure(context.client.item_error(fault))
            elif document is not None:
                row._record_created(context, payloads[row], document)
            else:
                row._unanswered(TransientError(self.env._("no answer in its batch"), service="QuickBooks"))
        self._commit()  # the batch's answers together: a crash before it leaves them to the batch's look-up

    def _unbatch(self):
        self.write({self._state_field: "to_send", "batch_request_id": False, "batch_item_id": False})
        self._commit()

    def _unanswered(self, exc):
        reason = self.env._(
            "%(service)s did not answer (%(error)s). It stays “Sending” and is looked up before anything is sent "
            "again.",
            service=exc.service,
            error=translated(self.env, exc),
        )
        self._log(reason)
        self._note("later", reason)
        self._commit()

    # What each model supplies to the batch protocol.
    def _batch_key(self):
        """What identifies the row in its batch's request id (with its revision)."""
        raise NotImplementedError

    def _request_id(self, context):
        """The row's own request id, for a request of its own."""
        raise NotImplementedError

    def _sending_values(self):
        return {}

    def _batch_item(self, payload):
        """The python-quickbooks document the row's item in a batch creates (``tools/qbo_objects``)."""
        raise NotImplementedError

    def _record_created(self, context, payload, document):
        """Record the row's ``document``, created: QuickBooks' answer in its batch, read by ``read_batch``."""
        raise NotImplementedError

    def _send_alone(self, context):
        """Send the row in a request of its own (its batch was refused as a whole)."""
        raise NotImplementedError

    def _note(self, kind, reason=None):
        """Count these rows under ``kind`` in the outcome of the person's action running, if any."""
        outcomes = self.env.context.get(OUTCOMES)
        if outcomes is not None:
            outcomes.note(self, kind, reason)

    def _post_reason(self, text):
        """Note a reason in the chatter, one line a line (escaped)."""
        lines = [escape(line) for line in str(text).splitlines() if line.strip()]
        self._log(Markup("<br/>").join(lines))

    def _log(self, body):
        """Note ``body`` in the chatter of each of these rows: the connector's own account of what it did, as
        a logged note (no notification, written in one go for many rows)."""
        if self:
            self._message_log_batch({row.id: body for row in self})

    def _mark_tried(self):
        """The row is being tried now, in the current scheduled run if any: it waits for the next run."""
        self.write(
            {"last_transfer_at": fields.Datetime.now(), "tried_run_id": self.env.context.get("nexudus_qbo_run_id")}
        )

    @api.model
    def _not_tried_in_this_run(self, or_also=None):
        """A domain: the rows not tried yet in the current scheduled run (all rows outside one), or
        matching ``or_also`` (a domain) though tried."""
        run_id = self.env.context.get("nexudus_qbo_run_id")
        if not run_id:
            return []
        if or_also:
            return ["|", ("tried_run_id", "!=", run_id), *or_also]
        return [("tried_run_id", "!=", run_id)]

    def _commit(self):
        """Commit now (in a scheduled run, with its progress): what was written must survive a crash."""
        return self.env["ir.cron"]._commit_progress()

    def _move_each(self, move):
        """Call ``move(row)`` for each row. One bad row never stops the others: a refusal fails that row
        (``_record_failure``), a service that is down leaves it as it is for the next run, and a service
        asking to wait ends the loop (raised for the caller to pause)."""
        for row in self:
            try:
                move(row)
            except (ApiError, UserError) as exc:
                kind = policy(exc)
                if kind == THROTTLED:
                    raise
                self.env.cr.rollback()
                if kind == RETRYABLE:
                    reason = self.env._("Not sent this time: %(error)s", error=translated(self.env, exc))
                    row._log(reason)
                    row._note("later", reason)
                else:
                    row._record_failure(exc)
                self._commit()

    def _record_failure(self, exc):
        raise NotImplementedError

    @api.model
    def _retry_later(self, exc):
        """Have the scheduled action come back when a throttled service says; returns when."""
        at = fields.Datetime.now() + timedelta(seconds=float(exc.retry_after or 60))
        cron = self.env.ref(CRON, raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(at=at)
        return at

    @api.model
    def _phase(self, company, what, work):
        """One step of a company's scheduled run; returns what ``work`` returns, or 0 when it stopped: a
        service asking to wait pauses the step until then, a service that is down leaves it for the next
        run, a configuration problem stops it (its fix is logged, and shown by the pre-flight checks)."""
        try:
            return work()
        except ThrottledError as exc:
            self._rollback_keeping(exc)
            at = self._retry_later(exc)
            _logger.info("Nexudus–QuickBooks, %s, %s: paused until %s UTC (%s)", company.name, what, at, exc)
        except TransientError as exc:
            self.env.cr.rollback()
            _logger.warning("Nexudus–QuickBooks, %s, %s: left for the next run (%s)", company.name, what, exc)
        except UserError as exc:
            self.env.cr.rollback()
            _logger.warning("Nexudus–QuickBooks, %s, %s: stopped: %s", company.name, what, exc)
        self._commit()
        return 0

    def _rollback_keeping(self, exc):
        """Roll back what the step left uncommitted, keeping the service's wait on its budget. The budget
        is written in a transaction of its own, so this only matters where every transaction is one (the
        test suite's registry test mode); elsewhere it writes what is already there."""
        self.env.cr.rollback()
        if isinstance(exc, ThrottledError) and exc.limiter and not exc.local:
            exc.limiter.throttled(exc.retry_after, again=True)

    def _run_in_own_transaction(self, method, ids, title):
        """Run ``method`` on ``ids`` in a transaction of its own, which commits each step as it goes: a
        transfer's state must be committed before and after each call, whatever happens to the
        transaction of the click that started it. Returns the notification for the person."""
        self.browse(ids).check_access("write")
        return self._in_own_transaction(lambda model: getattr(model.browse(ids), method)(), title, ids)

    @api.model
    def _in_own_transaction(self, work, title, ids=()):
        """Run ``work(model)`` in a transaction of its own (as the connector, counting outcomes, recorded as a
        manual run of the person) and return the notification of what it did; rows of ``ids`` a pause left
        untouched are counted as left for later."""
        self.check_access("write")
        outcomes = Outcomes()
        company = self.browse(ids).company_id[:1] or self.env.company
        with (
            self.env.registry.cursor() as cr,
            self.env(cr=cr, su=True)["nexudus.qbo.run"]._manual(title, company) as run,
        ):
            context = {OUTCOMES: outcomes, "nexudus_qbo_manual_run_id": run.id}
            model = self.with_env(run.env)._as_connector().with_context(**context)
            pause = model._paused(lambda: work(model))
            if pause:
                untouched = [i for i in ids if (self._name, i) not in outcomes.became]
                model.browse(untouched)._note("later")
            result = model._notify_result(outcomes, title, pause)
        self.invalidate_recordset()
        return result

    # -- long work started by a click: in the background -----------------------------------------------
    @api.model
    def _background_cron(self):
        """The scheduled action, when it is active (else nothing runs in the background)."""
        cron = self.env.ref(CRON, raise_if_not_found=False)
        return cron if cron and cron.sudo().active else None

    def _send_method(self):
        """``_send_now``, or ``_send_in_background`` for too many rows for a click."""
        return "_send_in_background" if self._too_many_for_a_click() else "_send_now"

    def _too_many_for_a_click(self):
        """More rows than ``BACKGROUND_THRESHOLD``, and the scheduled action active to move them."""
        return len(self) > BACKGROUND_THRESHOLD and bool(self._background_cron())

    def _hand_to_background(self):
        """Have the scheduled action, started at once, move these rows for the person clicking, who is told
        when it is done (``_notify_requesters``)."""
        self.write({"requested_by_id": self.env.uid})
        self._note("background")
        if self:
            self._background_cron().sudo()._trigger()

    @api.model
    def _notify_requesters(self, company, pending, title):
        """Tell each person whose click the scheduled action carried out for ``company``, once none of its
        rows is among ``pending`` (still to try in this run), what came of them (a bus notification), and
        forget the request."""
        asked = self.search([("company_id", "=", company.id), ("requested_by_id", "!=", False)])
        for user in asked.requested_by_id:
            rows = asked.filtered(lambda r, u=user: r.requested_by_id == u)
            if rows & pending:
                continue
            rows = rows.with_context(lang=user.lang)
            outcomes = Outcomes()
            for row in rows:
                kind = row._final_outcome()
                reason = row[self._reason_field] if kind in REASON_ORDER else None
                outcomes.note(row, kind, reason)
            params = rows._notify_result(outcomes, rows.env._("%(title)s: done", title=title))["params"]
            user._bus_send(
                "simple_notification",
                {"title": params["title"], "message": params["message"], "type": params["type"], "sticky": True},
            )
            rows.write({"requested_by_id": False})
        self._commit()

    def _final_outcome(self):
        """What became of a row handed to the scheduled action, as an outcome kind (``OUTCOME_ORDER``)."""
        raise NotImplementedError

    def _paused(self, work):
        """Run ``work``; when a service asks to wait or does not answer, keep what was done, have the
        scheduled action continue, and return (the error, when it continues)."""
        try:
            work()
        except (ThrottledError, TransientError) as exc:
            self._rollback_keeping(exc)
            at = self._retry_later(exc) if isinstance(exc, ThrottledError) else None
            self._commit()
            self.invalidate_recordset()
            return exc, at
        return None

    @api.model
    def _notify_result(self, outcomes, title, pause=None):
        """The person's notification: what this action did, counted as it happened. Nothing done, or a
        failure, is a warning that gives the first reason."""
        counts = outcomes.counts(self._name)
        parts = [self._outcome_text(kind, counts[kind]) for kind in OUTCOME_ORDER if counts.get(kind)]
        done = bool(DONE_KINDS & set(counts))
        message = ", ".join(parts) + "." if parts else self.env._("Nothing to do.")
        if parts and not done:
            message = self.env._("Nothing done: %(what)s", what=message)
        for other in outcomes.models():  # what followed the rows, e.g. the payments of invoices just sent
            if other != self._name:
                also = outcomes.counts(other)
                message = self.env._(
                    "%(message)s %(model)s: %(what)s.",
                    message=message,
                    model=self.env[other]._description,
                    what=", ".join(self._outcome_text(kind, also[kind]) for kind in OUTCOME_ORDER if also.get(kind)),
                )
        kind = "success" if done and not counts.get("failed") and not pause else "warning"
        reason = outcomes.first_reason()
        if kind == "warning" and reason:
            message = self.env._("%(message)s First: %(reason)s", message=message, reason=summary(reason))
        if pause:
            message = f"{self._pause_text(*pause)} {message}"
        return notification(title, message, kind, sticky=bool(pause))

    @api.model
    def _outcome_text(self, kind, count):
        return {
            "read": self.env._("%(count)s new from Nexudus", count=count),
            "updated": self.env._("%(count)s updated from Nexudus", count=count),
            "refreshed": self.env._("%(count)s refreshed from Nexudus", count=count),
            "ready": self.env._("%(count)s now ready to send", count=count),
            "created": self.env._("%(count)s created in QuickBooks", count=count),
            "recorded": self.env._("%(count)s recorded in Nexudus", count=count),
            "voided": self.env._("%(count)s voided in QuickBooks", count=count),
            "already": self.env._("%(count)s already there", count=count),
            "to_send": self.env._("%(count)s to send (automatic sending is off: select them and Send)", count=count),
            "waiting": self.env._("%(count)s waiting for mappings", count=count),
            "held": self.env._("%(count)s waiting for their invoice or settings", count=count),
            "left_out": self.env._("%(count)s not for QuickBooks (draft, void or transferred by Nexudus)", count=count),
            "attention": self.env._("%(count)s need a person", count=count),
            "failed": self.env._("%(count)s failed", count=count),
            "later": self.env._("%(count)s left for later", count=count),
            "background": self.env._(
                "%(count)s continue in the background (the scheduled action sends them now): a notification "
                "follows when they are done",
                count=count,
            ),
        }[kind]

    @api.model
    def _pause_text(self, exc, at):
        if at:
            when = fields.Datetime.context_timestamp(self, at).strftime("%H:%M:%S")
            return self.env._(
                "%(service)s asks to wait (its request limit): what was done is kept, and the rest continues by "
                "itself at %(when)s. So far:",
                service=exc.service,
                when=when,
            )
        return self.env._(
            "%(service)s did not answer (%(error)s): what was done is kept, and the rest is tried again by the next "
            "scheduled run. So far:",
            service=exc.service,
            error=translated(self.env, exc.message),
        )
