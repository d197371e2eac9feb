from datetime import timedelta

from odoo import api, fields, models

from ..tools.moments import naive_utc
from ..tools.qbo_objects import field
from .nexudus_qbo_invoice import _LineWindow

SWEEP_CRON = "nexudus_qbo_connector.ir_cron_nexudus_qbo_sweep"
DAYS_PARAM = "nexudus_qbo_connector.sweep_days"
DEFAULT_DAYS = 3  # Nexudus changes re-read, whatever the cursors say
CDC_LOOK_BACK = timedelta(hours=30)  # QuickBooks changes re-read: a day and a margin (CDC reaches back 30 days)
CDC_MAX = 1000  # objects in one CDC answer, which has no pages (QBO research §3.2)
SWEPT_WITHIN = timedelta(hours=20)  # a company swept more recently is not swept again
RETRY_CLAIMED = timedelta(minutes=5)  # a company another worker holds is swept this much later


class NexudusQboSweep(models.AbstractModel):
    """The daily sweep: what a webhook or an incremental cursor may have missed, read again.

    For each served company connected to QuickBooks, once a day: the Nexudus customers and invoices
    updated in the last ``sweep_days`` days (3 unless set), whatever the cursors say, and, when payments
    come back from QuickBooks, QuickBooks' change data capture of payments for the last 30 hours. Rows are
    deduplicated as in every import (Nexudus id and ``UpdatedOn``; QuickBooks payment id), so a sweep that
    finds nothing new changes nothing; what it finds is handed to the scheduled action. It runs as a
    scheduled run of its own (titled "Daily sweep") and claims each company like a sync worker.
    """

    _name = "nexudus.qbo.sweep"
    _description = "Nexudus–QuickBooks daily sweep"

    @api.model
    def _cron_sweep(self):
        run = self.env["nexudus.qbo.run"]._current()
        if run and not run.title:
            run.title = self.env._("Daily sweep")
        scheduler = self.env["nexudus.qbo.scheduler"]
        scheduler._plan()  # the lanes a settings change could not adjust while they ran
        due = fields.Datetime.now() - SWEPT_WITHIN
        companies = self.env["res.company"].search([("nexudus_location_ids", "!=", False)])
        held = False
        for company in companies.filtered(lambda c: c.qbo_state == "connected"):
            if company.nexudus_qbo_swept_at and company.nexudus_qbo_swept_at > due:
                continue
            with scheduler._claim(company) as mine:
                held |= not mine
                if mine:
                    with run._measuring(company):
                        self.with_context(nexudus_qbo_run_id=run.id)._sweep_company(company)
            self.env["ir.cron"]._commit_progress(1)
        if held:
            self.env.ref(SWEEP_CRON).sudo()._trigger(at=fields.Datetime.now() + RETRY_CLAIMED)
        self.env["ir.cron"]._commit_progress(remaining=0)

    @api.model
    def _sweep_company(self, company):
        """Sweep one company (claimed); hand what was found to the scheduled action."""
        invoices = self.env["nexudus.qbo.invoice"]._as_connector().with_company(company)
        found = invoices._phase(
            company, "sweep: invoices from Nexudus", lambda: self._sweep_invoices(company, invoices)
        )
        if company.nexudus_qbo_reconcile_payments and company.nexudus_qbo_auto_pull_payments:
            payments = self.env["nexudus.qbo.payment"]._as_connector().with_company(company)
            found += payments._phase(
                company, "sweep: payments from QuickBooks", lambda: self._sweep_qbo_payments(company, payments)
            )
        company.sudo().nexudus_qbo_swept_at = fields.Datetime.now()
        if found:
            self.env["nexudus.qbo.scheduler"]._sync_cron().sudo()._trigger()
        invoices._commit()

    @api.model
    def _sweep_invoices(self, company, invoices):
        """The company's Nexudus customers and invoices updated in the sweep's window; returns how many
        invoice rows changed."""
        since = fields.Datetime.now() - timedelta(
            days=self.env["nexudus.qbo.run"]._days_setting(DAYS_PARAM, DEFAULT_DAYS)
        )
        client = company._nexudus_client()
        for records in invoices._pages_since(client, "coworkers", "Coworker", {}, since):
            self.env["nexudus.qbo.coworker"].sudo()._upsert(company, records)
            invoices._commit()
        touched = invoices._import_locations(company, client, _LineWindow(invoices, client), since)
        if touched:
            invoices._reevaluate_waiting(company)
        return len(touched)

    @api.model
    def _sweep_qbo_payments(self, company, payments):
        """Payments changed in QuickBooks in the last 30 hours, by change data capture, whatever the
        company's cursor says; returns how many payment rows were made."""
        client = company._qbo_client()
        since = fields.Datetime.now() - CDC_LOOK_BACK
        found = payments.browse()
        while True:
            rows = payments._qbo_payments_changed(client, since)  # 30 hours: within change data capture's window
            for row in rows:
                found |= payments._take_qbo_payment(company, row)
            payments._commit()
            stamps = [naive_utc(stamp) for r in rows if (stamp := field(r, "MetaData", "LastUpdatedTime"))]
            newest = max(stamps, default=since)
            if len(rows) < CDC_MAX or newest <= since:
                return len(found)
            since = newest  # a full answer: read on from its newest change
