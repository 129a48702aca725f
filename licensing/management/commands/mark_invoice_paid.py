"""``manage.py mark_invoice_paid INVOICE_ID [--reference TEXT]``: record a manual invoice's payment.

For staff who reconcile bank transfers from a shell. The payment, the licensee's grant and the
invoice's new state commit together; running it twice changes nothing the second time.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from licensing.models import Invoice
from licensing.revenue.payments import format_amount, record_payment


class Command(BaseCommand):
    help = "Mark an invoice paid: records the payment and grants the licensee the terms they were shown."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("invoice_id")
        parser.add_argument("--reference", default="", help="The bank's or provider's reference of the payment.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            payment = record_payment(invoice_id=options["invoice_id"], recorded_by=None, reference=options["reference"])
        except Invoice.DoesNotExist:
            raise CommandError(f"No invoice {options['invoice_id']}.") from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        invoice = payment.invoice
        self.stdout.write(
            f"Invoice {invoice.id} is paid ({format_amount(payment.amount_cents, payment.currency)}); "
            f"grant {payment.grant_id} lets {invoice.user.get_username()} download {invoice.dataset.name}."
        )
