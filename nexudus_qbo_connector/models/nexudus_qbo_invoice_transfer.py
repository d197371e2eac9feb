import logging
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import batching, invoice_payload
from ..tools.errors import ApiError, NotFoundError, ThrottledError, TransientError
from ..tools.matching import rate
from ..tools.qbo_client import quote
from ..tools.texts import translated
from ..tools.transferability import MANAGERS, TAX_MAPPINGS

_logger = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x4E51  # pg advisory lock class for "one worker transfers this invoice"
SEND_CHUNK = 100  # invoices sent per call of the scheduled action, between two progress reports
SENDABLE = ("to_send", "failed", "skipped", "sending", "to_void", "to_delete")
RUN_COUNTERS = {"sent": "sent_count", "failed": "failed_count", "to_delete": "failed_count", "skipped": "skipped_count"}


class NexudusQboInvoice(models.Model):
    """Sending mirrored invoices to QuickBooks, exactly once.

    Exactly-once protocol (one invoice at a time, one bad invoice never stops the others):
    1. take a session advisory lock on the invoice (a second worker skips it), read its row afresh;
    2. a row found in ``sending`` was interrupted after its request left: look the document up in
       QuickBooks (by number, else by customer and date, always by the marker in its memo) and adopt it;
    3. otherwise write ``sending`` with a request id derived from (realm, invoice, revision) and commit;
    4. call QuickBooks with that request id (a repeated id gets the first answer back), then record the
       result and commit. A lost answer leaves ``sending`` for step 2 of the next run.
    A refusal bumps the revision, so that the next attempt (after the fix) is a new request.
    """

    _inherit = "nexudus.qbo.invoice"
    _lock_namespace = LOCK_NAMESPACE

    # -- states ------------------------------------------------------------------------------------
    def _set_state(self, state, reason=False, **values):
        before = {row.id: row.transfer_state for row in self}
        values.setdefault("waiting_for_mappings", False)
        self.write({"transfer_state": state, "transfer_reason": reason or False, **values})
        if reason and state in ("failed", "skipped", "to_void", "to_delete"):
            self._post_reason(reason)
        run = self.env["nexudus.qbo.run"]._tallying()
        for row in self.filtered(lambda r: before[r.id] != state and state in RUN_COUNTERS):
            failed = row if RUN_COUNTERS[state] == "failed_count" else None
            run._count(row.company_id, row.location_id, RUN_COUNTERS[state], rows=failed)

    def _evaluate(self):
        """Decide whether an invoice not yet in QuickBooks is to be sent, or skipped and why."""
        charts = {}  # the mappings, read once per company
        for row in self.filtered(lambda r: r.transfer_state in ("to_send", "skipped")):
            company = row.company_id
            if company not in charts:
                charts[company] = company._nexudus_qbo_chart()
            reason, waiting = row._skip_reason(charts[company])
            if reason:
                if (row.transfer_state, row.transfer_reason) != ("skipped", reason):
                    row._set_state("skipped", reason, waiting_for_mappings=waiting)
                elif row.waiting_for_mappings != waiting:  # skipped before the flag existed: said already
                    row.waiting_for_mappings = waiting
                row._note("waiting" if waiting else "left_out", reason)
            elif row.transfer_state == "skipped":
                row._set_state("to_send")
                row._note("ready")

    def _skip_reason(self, chart):
        """``(why the invoice is not sent, whether it waits for its mappings)``, ``(False, False)`` when it
        can be sent; ``chart``: the company's mappings (``res.company._nexudus_qbo_chart``)."""
        record = self._nexudus_record()
        if record.get("Draft"):
            return self.env._("Draft in Nexudus: only issued invoices are transferred."), False
        if self.transferred_by_nexudus:
            return self.env._(
                "Already transferred by Nexudus's own QuickBooks integration (QuickbooksInvoiceTransfered): sending "
                "it again would duplicate it. Turn Nexudus's automatic QuickBooks transfer off."
            ), False
        if record.get("Void"):
            return self.env._("Voided in Nexudus before it was transferred: nothing to send."), False
        problems = self.company_id._nexudus_qbo_transfer_problems(record, self._nexudus_lines(), chart=chart)
        if problems:
            return self.env._("Waiting for its mappings (it is sent once they are complete):\n%(problems)s",
                              problems="\n".join(translated(self.env, p) for p in problems)), True  # fmt: skip
        return False, False

    @api.model
    def _reevaluate_waiting(self, companies):
        """Decide again, now, for the skipped invoices of ``companies`` (a mapping changed, or they were read
        again): those whose mappings are complete become *To send*, their reason cleared, and are sent by
        the next run when automatic sending is on."""
        waiting = self._as_connector().search([("company_id", "in", companies.ids), ("transfer_state", "=", "skipped")])
        waiting._evaluate()
        return waiting

    # -- running -----------------------------------------------------------------------------------
    @api.model
    def _sync_company(self, company, first_call=True):
        """One call of the scheduled run for one company; returns how many invoices are left to send.
        Reading from Nexudus and sending to QuickBooks are steps of their own: a throttled or failing
        import never keeps the run from sending what is already imported, nor the other way round."""
        if first_call:
            self._phase(company, "invoices from Nexudus", lambda: self._import_and_evaluate(company))
        remaining = self._phase(company, "sending invoices", lambda: self._send_chunk(company))
        self._notify_requesters(company, self._pending(company), self.env._("Send to QuickBooks"))
        return remaining

    @api.model
    def _import_and_evaluate(self, company):
        self._import_company(company)
        self._reevaluate_waiting(company)
        self._commit()

    @api.model
    def _pending(self, company):
        """What waits to be sent: every invoice to send when automatic sending is on, else those a person
        asked for; interrupted transfers and pending follow-ups (``followup_pending``) always."""
        if company.nexudus_qbo_auto_send_invoices:
            wanted = ["|", ("transfer_state", "in", ("to_send", "sending")), ("followup_pending", "!=", False)]
        else:
            wanted = ["|", "|", ("transfer_state", "=", "sending"), ("followup_pending", "!=", False),
                      "&", ("transfer_state", "=", "to_send"), ("send_requested", "=", True)]  # fmt: skip
        return self.search(
            [("company_id", "=", company.id), *wanted, *self._not_tried_in_this_run()],
            order="is_credit_note, issue_date, id",
        )

    @api.model
    def _send_chunk(self, company):
        """Send the next chunk of what waits; returns how many are left."""
        pending = self._pending(company)
        chunk = pending[:SEND_CHUNK]
        if chunk:
            chunk._send_company(company)
        self.env["ir.cron"]._commit_progress(len(chunk))
        return len(pending) - len(chunk)

    @api.model
    def _send_or_hand_over(self, company):
        """A person's Sync now: send what waits now, or hand it to the scheduled action when it is too much
        for a click."""
        pending = self._pending(company)
        if pending._too_many_for_a_click():
            pending._send_in_background()
        else:
            self._send_chunk(company)

    # -- long work started by a click: in the background (see the transfer mixin) ---------------------
    def _send_in_background(self):
        """Hand these invoices to the scheduled action: what can be sent is marked as asked for."""
        for row in self.filtered(lambda r: r.transfer_state not in SENDABLE):
            row._note("already", row._in_qbo_text())
        rows = self.filtered(lambda r: r.transfer_state in SENDABLE)
        rows.filtered(lambda r: r.transfer_state == "failed").write({"transfer_state": "to_send"})
        rows._evaluate()
        queued = rows.filtered(lambda r: r.transfer_state in ("to_send", "sending", "to_void", "to_delete"))
        queued.write({"send_requested": True})
        queued._hand_to_background()

    def _final_outcome(self):
        if self.transfer_state == "skipped":
            return "waiting" if self.waiting_for_mappings else "left_out"
        return {"sent": "created", "voided": "voided", "failed": "failed", "to_delete": "failed"}.get(
            self.transfer_state, "later"
        )

    def _send_now(self):
        """Send these invoices (a person asked): pre-flight checks first, refusing with their fixes. What a
        busy or unreachable service leaves unsent is marked as asked for, so the scheduled action finishes it."""
        try:
            for company in self.company_id:
                for row in self.filtered(lambda r, c=company: r.company_id == c and r.transfer_state not in SENDABLE):
                    row._note("already", row._in_qbo_text())
                rows = self.filtered(lambda r, c=company: r.company_id == c and r.transfer_state in SENDABLE)
                rows.filtered(lambda r: r.transfer_state == "failed").write({"transfer_state": "to_send"})
                rows._evaluate()
                ordered = rows.sorted(lambda r: (r.is_credit_note, r.issue_date or fields.Date.today(), r.id))
                ordered.with_context(nexudus_qbo_resend=True)._send_company(company)
                if company.nexudus_qbo_send_payments:  # the payments that waited for these invoices follow them
                    self.env["nexudus.qbo.payment"]._released_for(rows)._send_each()
        except (ThrottledError, TransientError) as exc:
            self._rollback_keeping(exc)
            self.invalidate_recordset()
            self.filtered(lambda r: r.transfer_state == "to_send").write({"send_requested": True})
            self._commit()
            raise

    def _send_company(self, company):
        """Send these rows of ``company``; the pre-flight checks and QuickBooks' preferences are read once
        per scheduled run (each click checks afresh). New documents go in batch requests, as do lost batch
        answers to look up; the rest (voids, deletes, follow-ups, a single document) one row at a time."""
        company._nexudus_qbo_assert_ready()
        client = company._qbo_client()
        context = _SendContext(company, client, company._qbo_preferences(client))
        recovering = self.filtered(lambda r: r.transfer_state == "sending" and r.batch_request_id)
        new = self.filtered(lambda r: r.transfer_state == "to_send" and not r.followup_pending)
        batched = recovering | (new if len(new) > 1 else new.browse())
        for batch_id in dict.fromkeys(recovering.mapped("batch_request_id")):
            recovering.filtered(lambda r, b=batch_id: r.batch_request_id == b)._move_batch(context)
        for chunk in batching.chunks(batched - recovering):
            chunk._move_batch(context)
        (self - batched)._move_each(lambda row: row._transfer_locked(context))

    def _record_failure(self, exc):
        reason = self._failure_text(exc)
        self._set_state("failed", reason, request_revision=self.request_revision + 1)
        self._note("failed", reason)
        self._ask_manager(self.env._("Transfer to QuickBooks failed"), reason)

    def _in_qbo_text(self):
        return self.env._(
            "%(name)s is already in QuickBooks (ID %(id)s): nothing was sent again.",
            name=self.display_name,
            id=self.qbo_id or "-",
        )

    def _transfer_locked(self, context):
        with self._locked() as row:
            if row:
                row._fresh()._transfer_fresh(context)

    def _transfer_fresh(self, context):
        # Another worker finished it meanwhile; a sent row comes back only for its follow-up.
        if self.transfer_state == "voided" or (self.transfer_state == "sent" and not self.followup_pending):
            self._note("already", self._in_qbo_text())
            return
        self._mark_tried()
        if self.transfer_state == "to_delete":
            if not self._finish_discard(context):
                return
            if self.env.context.get("nexudus_qbo_resend") or self.send_requested:  # a person asked: send it again
                self.write({"transfer_state": "to_send"})
        if self.transfer_state == "to_void":
            self._void_in_qbo(context)
        elif self.transfer_state == "sending":
            self._recover(context)
        elif self.transfer_state == "to_send":
            self._transfer(context)
        self._followups(context)

    def _followups(self, context):
        """Apply the credit of sent credit notes, and of those that waited for these invoices."""
        self.filtered(lambda r: r.followup_pending == "credit")._apply_credit(context)
        invoices = self.filtered(lambda r: r.transfer_state == "sent" and not r.is_credit_note)
        if invoices:  # credit notes sent before their invoice are applied as soon as it is in QuickBooks
            waiting = self.search([("original_invoice_id", "in", invoices.ids), ("followup_pending", "=", "credit")])
            waiting._apply_credit(context)

    # -- in batch requests -------------------------------------------------------------------------
    def _move_batch(self, context):
        """Send these new rows (at most a batch) in one batch request, or look up the batch these rows in
        *Sending* went in. Same protocol as one row: lock, re-read, commit *Sending*, call, record."""
        with self._locked() as rows:
            rows._fresh()
            done = rows.filtered(
                lambda r: r.transfer_state == "voided" or (r.transfer_state == "sent" and not r.followup_pending)
            )
            for row in done:
                row._note("already", row._in_qbo_text())
            recovering = rows.filtered(lambda r: r.transfer_state == "sending" and r.batch_request_id)
            new = rows.filtered(lambda r: r.transfer_state == "to_send" and not r.followup_pending)
            (rows - done - recovering - new)._move_each(lambda row: row._transfer_fresh(context))
            (recovering | new)._mark_tried()
            new._evaluate()
            self._commit()
            new = new.filtered(lambda r: r.transfer_state == "to_send")
            links = self.env["nexudus.qbo.customer.link"]
            links._create_in_batch(context.company, context, [row._nexudus_record() for row in new])
            payloads = (recovering | new)._payloads(context)
            if recovering:
                recovering.filtered(lambda r: r in payloads)._recover_batch(context, payloads)
            new = new.filtered(lambda r: r in payloads and r.transfer_state == "to_send")
            if new:
                new._send_in_batch(context, payloads, "invoices")
            (recovering | new).filtered(lambda r: r.transfer_state == "sent")._followups(context)

    def _payloads(self, context):
        """Each row's payload, by row; a row whose payload cannot be built fails (``_move_each``)."""
        payloads = {}

        def build(row):
            payloads[row] = row._payload(context)

        self._move_each(build)
        return payloads

    def _batch_key(self):
        return self.nexudus_id

    def _batch_item(self, payload):
        return payload.entity, payload.body

    def _record_created(self, context, payload, answer):
        self._record_sent(context, payload, answer.get(payload.entity) or {})

    def _send_alone(self, context):
        self._transfer(context)

    def _recover_batch(self, context, payloads):
        """These rows went in one batch whose answer was lost: adopt what one query per entity finds in
        QuickBooks, and send the rest again in the same batch request (QuickBooks answers a repeated request id
        with its first answer; a forgotten one sends only what is not there)."""
        found = self._find_batch_in_qbo(context, payloads)
        for row, document in found.items():
            row.message_post(
                body=self.env._("Found in QuickBooks after an interrupted transfer: adopted, not sent again.")
            )
            row._record_sent(context, payloads[row], document, outcome="already")
        missing = self.filtered(lambda r: r not in found)
        if missing:
            missing._call_batch(context, payloads)

    def _find_batch_in_qbo(self, context, payloads):
        """The QuickBooks documents of these rows, by row: one query per entity for their numbers (a row
        without a number is looked up on its own), each matched by the marker in its memo."""
        found = {}
        for entity in {payloads[row].entity for row in self}:
            rows = self.filtered(lambda r, e=entity: payloads[r].entity == e)
            numbered = rows.filtered(lambda r: payloads[r].doc_number)
            if numbered:
                numbers = ", ".join(quote(payloads[row].doc_number) for row in numbered)
                documents = context.client.query_all(entity, f"DocNumber IN ({numbers})")
                for row in numbered:
                    marker = payloads[row].marker
                    document = next((d for d in documents if marker in (d.get("PrivateNote") or "")), None)
                    if document:
                        found[row] = document
            for row in rows - numbered:
                document = row._find_in_qbo(context, payloads[row])
                if document:
                    found[row] = document
        return found

    def _request_id(self, context):
        return batching.request_id(context.realm, self.nexudus_id, self.request_revision)

    def _transfer(self, context):
        self._evaluate()
        if self.transfer_state != "to_send":
            self._commit()
            return
        payload = self._payload(context)
        request_id = self._request_id(context)
        self.write(
            {
                "transfer_state": "sending",
                "request_id": request_id,
                "batch_request_id": False,
                "batch_item_id": False,
                "attempts": self.attempts + 1,
                "last_transfer_at": fields.Datetime.now(),
            }
        )
        self._commit()  # the row says "sending" before the request leaves
        try:
            document = context.client.save(payload.entity, payload.body, request_id=request_id)
        except ThrottledError:
            self.write({"transfer_state": "to_send"})  # refused unprocessed: nothing reached QuickBooks
            self._commit()
            raise
        except TransientError as exc:
            self._unanswered(exc)
            return
        self._record_sent(context, payload, document)

    def _recover(self, context):
        """The row was left in ``sending``: adopt the QuickBooks document if it exists, else send again
        with the same request id (QuickBooks answers a repeated id with its first answer)."""
        payload = self._payload(context)
        document = self._find_in_qbo(context, payload)
        if document:
            self.message_post(
                body=self.env._("Found in QuickBooks after an interrupted transfer: adopted, not sent again.")
            )
            self._record_sent(context, payload, document, outcome="already")
            return
        try:
            document = context.client.save(payload.entity, payload.body, request_id=self.request_id)
        except TransientError as exc:
            self._note("later", self.env._("QuickBooks did not answer (%(error)s).", error=translated(self.env, exc)))
            self._commit()
            return
        self._record_sent(context, payload, document)

    def _find_in_qbo(self, context, payload):
        if payload.doc_number:
            where = f"DocNumber = {quote(payload.doc_number)}"
        else:
            where = f"CustomerRef = {quote(payload.body['CustomerRef']['value'])}"
            if payload.body.get("TxnDate"):
                where += f" AND TxnDate = {quote(payload.body['TxnDate'])}"
        rows = context.client.query_all(payload.entity, where)
        return next((row for row in rows if payload.marker in (row.get("PrivateNote") or "")), None)

    def _record_sent(self, context, payload, document, outcome="created"):
        """Record the QuickBooks ``document`` as this invoice's; ``outcome``: created now, or found already
        there (an interrupted transfer adopted)."""
        total = invoice_payload.money(document.get("TotalAmt"))
        if total != payload.total:
            return self._record_mismatch(context, payload, document, total)
        self._set_state(
            "sent",
            send_requested=False,
            qbo_id=document.get("Id"),
            qbo_doc_number=document.get("DocNumber") or False,
            qbo_total=float(-total if self.is_credit_note else total),  # signed as in Nexudus
            last_transfer_at=fields.Datetime.now(),
        )
        self.message_post(
            body=self.env._(
                "Sent to QuickBooks as %(entity)s %(number)s (ID %(id)s), total %(total)s.",
                entity=payload.entity,
                number=document.get("DocNumber") or "",
                id=document.get("Id"),
                total=total,
            )
        )
        self._note(outcome, self._in_qbo_text() if outcome == "already" else None)
        self._commit()
        return None

    def _record_mismatch(self, context, payload, document, total):
        """QuickBooks' total differs from Nexudus's: the document must go again. The row says *Delete
        pending* with the document's id until QuickBooks confirms the delete, and only then *Failed*."""
        reason = self.env._(
            "QuickBooks computed %(qbo)s for %(name)s where Nexudus says %(nexudus)s (difference %(diff)s). Fix "
            "(%(who)s): check the tax codes mapped for its lines (the QuickBooks rate must equal the Nexudus rate) "
            "in %(where)s, then Retry.",
            who=MANAGERS,
            where=TAX_MAPPINGS,
            qbo=total,
            name=self.display_name,
            nexudus=payload.total,
            diff=payload.total - total,
        )
        self._set_state(
            "to_delete",
            reason,
            qbo_discard_id=document["Id"],
            qbo_discard_entity=payload.entity,
            request_revision=self.request_revision + 1,
        )
        self._note("failed", reason)
        self._commit()
        self._finish_discard(context)

    def _finish_discard(self, context):
        """Delete the QuickBooks document left with a wrong total; True once it is gone. Until then the row
        stays *Delete pending* and nothing is sent for it; a throttle is raised after saying so."""
        entity, document_id = self.qbo_discard_entity, self.qbo_discard_id
        try:
            current = context.client.get(entity, document_id)
            context.client.save(
                entity,
                {"Id": document_id, "SyncToken": current.get("SyncToken", "0")},
                request_id=f"{self.request_id}-discard-{document_id}",
                operation="delete",
            )
        except NotFoundError:
            _logger.info("QuickBooks %s %s was already deleted", entity, document_id)
        except ApiError as exc:
            reason = self.env._(
                "QuickBooks %(entity)s %(id)s (wrong total) is still in QuickBooks: its delete did not go through "
                "(%(error)s). It is deleted before anything else is sent for this invoice.",
                entity=entity,
                id=document_id,
                error=translated(self.env, exc),
            )
            self.message_post(body=reason)
            self._note("later", reason)
            self._commit()
            if isinstance(exc, ThrottledError):
                raise
            return False
        self.write({"transfer_state": "failed", "qbo_discard_id": False, "qbo_discard_entity": False})
        self.message_post(
            body=self.env._("QuickBooks %(entity)s %(id)s (wrong total) was deleted.", entity=entity, id=document_id)
        )
        self._commit()
        return True

    def _payload(self, context):
        record = self._nexudus_record()
        try:
            return invoice_payload.build(record, self._nexudus_lines(), context.target(self, record))
        except invoice_payload.PayloadError as exc:
            raise UserError("\n".join(translated(self.env, p) for p in exc.problems)) from exc

    def _void_in_qbo(self, context):
        if not self.qbo_id:
            self._set_state("voided")
            self._note("voided")
            self._commit()
            return
        document = context.client.get("Invoice", self.qbo_id)
        context.client.save(
            "Invoice",
            {"Id": self.qbo_id, "SyncToken": document["SyncToken"]},
            request_id=f"{self.request_id}-void",
            operation="void",
        )
        self._set_state("voided", self.env._("Voided in QuickBooks, as it was in Nexudus."))
        self.message_post(body=self.env._("Voided in QuickBooks (ID %(id)s).", id=self.qbo_id))
        self._note("voided")
        self._commit()

    def _apply_credit(self, context):
        """Apply sent credit memos to their original invoice while that invoice is open in QuickBooks. When
        Nexudus payments are sent too, the ledger says which credit went where, and how much: its credit
        rows apply the memos (``nexudus.qbo.payment``), not this."""
        for note in self.filtered(lambda n: n.followup_pending == "credit"):
            try:
                note._apply_one_credit(context)
            except ApiError as exc:
                if exc.retryable:
                    raise
                note._refuse_credit(translated(self.env, exc))

    def _refuse_credit(self, why):
        """The credit cannot be applied: say why on the row and in the chatter; it is no longer retried."""
        reason = self.env._(
            "Credit note %(name)s was not applied to invoice %(number)s in QuickBooks: %(why)s Apply it there by hand "
            "(Receive payment, with the credit memo) if it should be.",
            name=self.display_name,
            number=self.original_invoice_id.number,
            why=why,
        )
        self.write({"followup_refused": reason})
        self._post_reason(reason)
        self._note("failed", reason)
        self._commit()

    def _apply_one_credit(self, context):
        original = self.original_invoice_id
        invoice = context.client.get("Invoice", original.qbo_id)
        memo = context.client.get("CreditMemo", self.qbo_id)
        balance = invoice_payload.money(invoice.get("Balance"))
        remaining = invoice_payload.money(memo.get("RemainingCredit"))
        if remaining <= 0:  # applied already (an answer lost on the way)
            self.write({"qbo_credit_applied": True})
            self._commit()
            return
        if balance <= 0:
            self._refuse_credit(self.env._("the invoice has nothing left to pay in QuickBooks."))
            return
        amount = min(balance, remaining)
        body = {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": Decimal("0.00"),
            "TxnDate": memo.get("TxnDate"),
            "PrivateNote": f"Nexudus credit note {self.number} applied to invoice {original.number} "
            f"[nexudus-credit {self.nexudus_id}]",
            "Line": [
                {"Amount": amount, "LinkedTxn": [{"TxnId": original.qbo_id, "TxnType": "Invoice"}]},
                {"Amount": amount, "LinkedTxn": [{"TxnId": self.qbo_id, "TxnType": "CreditMemo"}]},
            ],
        }
        if memo.get("CurrencyRef"):
            body["CurrencyRef"] = memo["CurrencyRef"]
        context.client.save("Payment", body, request_id=f"{self.request_id}-apply")
        self.write({"qbo_credit_applied": True})
        self.message_post(
            body=self.env._(
                "Applied %(amount)s of this credit to invoice %(number)s in QuickBooks.",
                amount=amount,
                number=original.number,
            )  # fmt: skip
        )
        self._commit()

    def _failure_text(self, exc):
        if isinstance(exc, ApiError):
            code = f" (code {exc.code})" if exc.code else ""
            detail = exc.detail or translated(self.env, exc.message)
            return self.env._(
                "QuickBooks refused %(name)s%(code)s: %(detail)s Fix: %(fix)s",
                name=self.display_name,
                code=code,
                detail=detail,
                fix=self._fix_for(exc.code),
            )
        text = translated(self.env, exc)
        return text if self.number and self.number in text else f"{self.display_name}: {text}"

    def _fix_for(self, code):
        """What an accountant does about a QuickBooks error code."""
        fixes = {
            "6140": self.env._(
                "another QuickBooks document already has this number. Give each Nexudus location its own invoice "
                "reference format (Nexudus › Settings › Invoices), or check whether it was entered in QuickBooks "
                "by hand; then Retry."
            ),
            "610": self.env._(
                "an account, item, customer or tax code it uses was made inactive in QuickBooks. Reactivate it, or "
                "(%(who)s) “Refresh lists” and correct the mapping in Nexudus–QuickBooks › Mappings; then Retry.",
                who=MANAGERS,
            ),
            "6000": self.env._("correct what QuickBooks names (mapping, tax code or customer), then Retry."),
            "6210": self.env._("the period is closed in QuickBooks: reopen it or change the closing date, then Retry."),
        }
        return fixes.get(code) or self.env._("correct what QuickBooks names, then Retry.")


class _SendContext:
    """What every invoice of one run shares: the client, the preferences, the mappings (read once)."""

    def __init__(self, company, client, preferences):
        self.company = company
        self.client = client
        self._nexudus = None
        self.realm = company.sudo().qbo_realm_id
        sales = preferences.get("SalesFormsPrefs") or {}
        currency = preferences.get("CurrencyPrefs") or {}
        self.custom_numbers = bool(sales.get("CustomTxnNumbers"))
        self.multicurrency = bool(currency.get("MultiCurrencyEnabled"))
        self.home_currency = (currency.get("HomeCurrency") or {}).get("value") or company.qbo_home_currency
        self.us = (company.qbo_country or "").upper() in ("US", "USA", "UNITED STATES")
        env = company.env
        self.items = {
            (m.location_id.id, m.nexudus_code): m.qbo_item_id.qbo_id
            for m in env["nexudus.qbo.account.map"].search([("company_id", "=", company.id), ("ready", "=", True)])
            if m.qbo_item_id
        }
        self.taxes = {}
        for m in env["nexudus.qbo.tax.map"].search([("company_id", "=", company.id), ("ready", "=", True)]):
            self.taxes[(m.location_id.id, m.nexudus_name, rate(m.nexudus_rate))] = self._tax_target(
                m.qbo_tax_code_id, m.us_taxable
            )
        default = company.nexudus_qbo_default_tax_code_id
        self.default_tax = self._tax_target(default, False) if default else None

    def nexudus(self):
        """The Nexudus client, signed in on first use (most invoices need no Nexudus call to be sent)."""
        if self._nexudus is None:
            self._nexudus = self.company._nexudus_client()
        return self._nexudus

    @staticmethod
    def _tax_target(code, us_taxable):
        rate_ids = code._sales_rate_ids()
        return invoice_payload.TaxTarget(
            code.qbo_id,
            rate_ids,
            us_taxable=us_taxable,
            percent=Decimal(str(round(code.rate, 4))) if len(rate_ids) == 1 else None,
        )

    def target(self, invoice, record):
        location = invoice.location_id
        link = invoice.env["nexudus.qbo.customer.link"]._resolve_for_invoice(self.company, self, record)
        return invoice_payload.Target(
            customer_id=link.qbo_customer_id,
            us=self.us,
            custom_txn_numbers=self.custom_numbers,
            use_invoice_period=self.company.nexudus_qbo_use_invoice_period,
            multicurrency=self.multicurrency,
            prices_include_tax=location.prices_include_tax,
            time_zone=location.time_zone or "UTC",
            items={code: item for (loc, code), item in self.items.items() if loc == location.id},
            taxes={(name, value): t for (loc, name, value), t in self.taxes.items() if loc == location.id},
            default_tax=self.default_tax,
        )
