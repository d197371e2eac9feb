from odoo import api, models


class NexudusQboCurrencySums(models.AbstractModel):
    """Totals that never add different currencies.

    Odoo's web client sums a monetary field over a group whatever its currencies, converting with the
    rates it knows (``sum_currency``, none for a currency never rated: then 1). The connector's amounts
    are Nexudus's, each in its invoice's currency, and a sum of pounds and euros means nothing: a group
    holding more than one currency gets no total (group by Currency to see one per currency).
    """

    _name = "nexudus.qbo.currency.sums"
    _description = "Nexudus–QuickBooks totals per currency"

    @api.model
    def formatted_read_group(self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None):
        extra = self._currency_aggregates(aggregates)
        groups = super().formatted_read_group(
            domain, groupby, [*aggregates, *extra], having=having, offset=offset, limit=limit, order=order
        )
        return self._single_currency_totals(groups, aggregates, extra)

    @api.model
    def formatted_read_grouping_sets(self, domain, grouping_sets, aggregates=(), *, order=None):
        extra = self._currency_aggregates(aggregates)
        groups_list = super().formatted_read_grouping_sets(domain, grouping_sets, [*aggregates, *extra], order=order)
        return [self._single_currency_totals(groups, aggregates, extra) for groups in groups_list]

    def _monetary_aggregates(self, aggregates):
        """(aggregate spec, its currency field) for each aggregate of a monetary field."""
        found = []
        for spec in aggregates:
            field = self._fields.get(spec.split(":")[0])
            if field is not None and field.type == "monetary" and ":" in spec:
                found.append((spec, field.get_currency_field(self)))
        return found

    def _currency_aggregates(self, aggregates):
        """The currency aggregates needed to tell mixed groups, when the caller did not ask for them."""
        wanted = {f"{currency}:array_agg_distinct" for _spec, currency in self._monetary_aggregates(aggregates)}
        return sorted(wanted - set(aggregates))

    def _single_currency_totals(self, groups, aggregates, extra):
        monetary = self._monetary_aggregates(aggregates)
        for group in groups:
            for spec, currency in monetary:
                if len(set(group.get(f"{currency}:array_agg_distinct") or ())) > 1:
                    group[spec] = False
            for key in extra:
                group.pop(key, None)
        return groups
