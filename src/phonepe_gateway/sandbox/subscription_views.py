"""How the sandbox's UPI AutoPay records look on the wire: subscription status, the
``paymentFlow`` of set-up and redemption orders, their order status, and the mandate
intent link. Pure functions of the records (times in epoch ms); nothing changes state.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from .models import Attempt, Order
from .subscription_rules import Mandate, Redemption
from .views import order_json

__all__ = ["mandate_link", "order_status_json", "payment_flow_json", "subscription_json"]


def subscription_json(mandate: Mandate, *, webhook: bool = False) -> dict[str, Any]:
    """Subscription status; a webhook payload (revoke, pause, cancel samples) omits the
    product, instrument and currency fields the status API adds."""
    out: dict[str, Any] = {
        "merchantSubscriptionId": mandate.merchant_subscription_id,
        "subscriptionId": mandate.subscription_id,
        "state": mandate.state,
        "productType": "UPI_MANDATE",
        "authInstrumentType": "UPI",
        "authWorkflowType": mandate.auth_workflow,
        "amountType": mandate.amount_type,
        "currency": "INR",
        "maxAmount": mandate.max_amount,
        "frequency": mandate.frequency,
        "expireAt": _ms(mandate.expire_at),
        "pauseStartDate": _ms(mandate.pause_start),
        "pauseEndDate": _ms(mandate.pause_end),
    }
    if webhook:
        del out["productType"], out["authInstrumentType"], out["currency"]
    return out


def payment_flow_json(order: Order, mandate: Mandate, red: Redemption | None) -> dict[str, Any]:
    """``SUBSCRIPTION_SETUP`` (``red`` None) or ``SUBSCRIPTION_REDEMPTION``; the
    redemption's window is known once the customer has been notified."""
    if red is None:
        return {
            "type": "SUBSCRIPTION_SETUP",
            "merchantSubscriptionId": mandate.merchant_subscription_id,
            "authWorkflowType": mandate.auth_workflow,
            "amountType": mandate.amount_type,
            "maxAmount": mandate.max_amount,
            "frequency": mandate.frequency,
            "expireAt": _ms(mandate.expire_at),
            "subscriptionId": mandate.subscription_id,
        }
    notified = order.state != "NOTIFICATION_IN_PROGRESS"
    return {
        "type": "SUBSCRIPTION_REDEMPTION",
        "merchantSubscriptionId": mandate.merchant_subscription_id,
        "redemptionRetryStrategy": red.retry_strategy,
        "autoDebit": red.auto_debit,
        "validAfter": _ms(red.valid_after) if notified else None,
        "validUpto": _ms(red.valid_upto) if notified else None,
        "notifiedAt": _ms(red.notified_at) if notified else None,
    }


def order_status_json(
    order: Order,
    flow: dict[str, Any],
    *,
    details: bool = True,
    attempts: list[Attempt] | None = None,
) -> dict[str, Any]:
    """The order status PhonePe answers for a set-up or redemption order: the checkout
    shape plus who it belongs to and its ``paymentFlow``; AutoPay debits carry the
    mandate's UMN on their UPI rail."""
    body = order_json(order, details=details, attempts=attempts)
    # AutoPay's published order statuses have no order-level fee fields, and a currency.
    del body["payableAmount"], body["feeAmount"]
    body = {"orderId": body.pop("orderId"), "state": body.pop("state"), "currency": "INR", **body}
    for detail in body["paymentDetails"]:
        rail = detail.get("rail")
        if detail["paymentMode"] == "UPI_AUTO_PAY" and isinstance(rail, dict):
            rail["umn"] = f"{detail['transactionId'].lower()}@ybl"
    return {
        "merchantId": order.merchant_id,
        "merchantOrderId": order.merchant_order_id,
        **body,
        "paymentFlow": flow,
    }


def mandate_link(mandate: Mandate, setup: Order, payee_vpa: str, payee_name: str) -> str:
    """The ``upi://mandate?…`` intent a UPI app opens to approve the set-up (NPCI's
    mandate intent parameters: payee, amount, cap, recurrence, validity)."""
    start = time.strftime("%d%m%Y", time.gmtime(mandate.created_at))
    end = time.strftime("%d%m%Y", time.gmtime(mandate.expire_at))
    rule = "EXACT" if mandate.amount_type == "FIXED" else "MAX"
    return (
        f"upi://mandate?pa={quote(payee_vpa, safe='@.')}&pn={quote(payee_name)}"
        f"&tr={setup.order_id}&am={_rupees(setup.amount)}&mam={_rupees(mandate.max_amount)}"
        f"&cu=INR&recur={mandate.frequency}&amrule={rule}"
        f"&validitystart={start}&validityend={end}&rev=Y&share=Y&txnType=CREATE"
        f"&mn={quote('AutoPay ' + mandate.merchant_subscription_id)}"
    )


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def _rupees(paise: int) -> str:
    return f"{paise // 100}.{paise % 100:02d}"
