"""Forms: vehicle entry (plate validation) and staff refunds (rupees in, paise out)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from .plates import InvalidPlate, normalise_plate
from .recovery import InvalidPhone, last4


class EntryForm(forms.Form):
    plate = forms.CharField(
        label="Vehicle number",
        max_length=20,
        help_text="As on the number plate, e.g. MH 12 AB 1234 or 22 BH 1234 AA.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "MH 12 AB 1234",
                "inputmode": "text",
            }
        ),
    )

    mobile = forms.CharField(
        label="Mobile number (optional)",
        max_length=20,
        required=False,
        help_text="Only its last 4 digits are kept: with them and the vehicle number you "
        "can open this ticket again if this page is lost.",
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "placeholder": "98765 43210"}
        ),
    )

    def clean_plate(self) -> str:
        try:
            return normalise_plate(self.cleaned_data["plate"])
        except InvalidPlate as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_mobile(self) -> str:
        mobile = self.cleaned_data["mobile"].strip()
        if mobile:
            try:
                last4(mobile)
            except InvalidPhone as exc:
                raise forms.ValidationError(str(exc)) from exc
        return mobile


class FindTicketForm(forms.Form):
    """A lost ticket page: the vehicle number and the last 4 digits of the mobile given at entry."""

    plate = EntryForm.base_fields["plate"]
    digits = forms.CharField(
        label="Last 4 digits of your mobile number",
        min_length=4,
        max_length=4,
        help_text="The number you gave when you parked.",
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{4}"}
        ),
    )

    def clean_plate(self) -> str:
        try:
            return normalise_plate(self.cleaned_data["plate"])
        except InvalidPlate as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_digits(self) -> str:
        digits = self.cleaned_data["digits"].strip()
        if not (len(digits) == 4 and digits.isdigit()):
            raise forms.ValidationError("Enter the last 4 digits, e.g. 3210.")
        return digits


class PayForm(forms.Form):
    """What the pay button posts: the fee the driver saw, checked against the server's."""

    confirmed_fee = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    # redirect: PhonePe's page; intent / qr / collect: UPI without it (lots/pay_upi.py).
    method = forms.ChoiceField(
        choices=[
            ("redirect", "redirect"),
            ("intent", "intent"),
            ("qr", "qr"),
            ("collect", "collect"),
        ],
        required=False,
    )
    vpa = forms.CharField(max_length=100, required=False)


def rupees_to_paise(text: str) -> int:
    try:
        value = Decimal(text.strip().replace(",", "").lstrip("₹").strip())
    except (InvalidOperation, AttributeError) as exc:
        raise forms.ValidationError("Enter an amount in rupees, e.g. 20 or 20.50.") from exc
    if value <= 0 or value != value.quantize(Decimal("0.01")):
        raise forms.ValidationError("Enter a positive amount with at most two decimals.")
    return int(value * 100)


class RefundForm(forms.Form):
    amount = forms.CharField(
        label="Amount to refund (₹)",
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "e.g. charged for an extra hour"}),
    )

    def __init__(self, *args: object, refundable: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.refundable = refundable
        self.fields["amount"].help_text = f"At most ₹{refundable / 100:,.2f} can still be refunded."

    def clean_amount(self) -> int:
        paise = rupees_to_paise(self.cleaned_data["amount"])
        if paise > self.refundable:
            raise forms.ValidationError(
                f"Only ₹{self.refundable / 100:,.2f} of this payment can still be refunded."
            )
        return paise

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < 3:
            raise forms.ValidationError("Say why the driver is refunded.")
        return reason


# -- bookings ---------------------------------------------------------------------------------


class BookingForm(forms.Form):
    """Book a bay ahead: the vehicle, when, and for how long (the price is the server's)."""

    plate = EntryForm.base_fields["plate"]
    start = forms.DateTimeField(
        label="From",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="Date and time you arrive (car park's local time).",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "900"}),
    )
    hours = forms.TypedChoiceField(
        label="For",
        coerce=int,
        choices=[(h, f"{h} hour{'s' if h > 1 else ''}") for h in (1, 2, 3, 4, 6, 8, 12)],
        initial=2,
    )

    def clean_plate(self) -> str:
        try:
            return normalise_plate(self.cleaned_data["plate"])
        except InvalidPlate as exc:
            raise forms.ValidationError(str(exc)) from exc


class BookingPayForm(forms.Form):
    """What a booking's pay button posts: the price shown, checked against the booking's."""

    confirmed_price = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    method = forms.ChoiceField(
        choices=[
            ("intent", "UPI app"),
            ("qr", "UPI QR"),
            ("collect", "UPI request"),
            ("hosted", "PhonePe page"),
        ]
    )
    vpa = forms.CharField(max_length=100, required=False)


class BookingCancelForm(forms.Form):
    """The refund the page promised; cancelling refuses if the policy now gives another."""

    confirmed_refund = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
