"""Driver pages at the root, staff pages under /staff/."""

from __future__ import annotations

from django.urls import path

from . import views_driver as driver
from . import views_pass
from . import views_staff as staff

urlpatterns = [
    path("", driver.home, name="home"),
    path("lots/<slug:slug>/", driver.lot_entry, name="lot-entry"),
    path("find/", driver.find_ticket, name="find-ticket"),
    path("park/<int:pk>/", driver.ticket, name="ticket"),
    path("park/<int:pk>/leave", driver.leave, name="leave"),
    path("park/<int:pk>/pay", driver.pay, name="pay"),
    path("park/<int:pk>/return", driver.payment_return, name="payment-return"),
    path("park/<int:pk>/status", driver.ticket_status, name="ticket-status"),
    path("staff/", staff.occupancy, name="staff-occupancy"),
    path("staff/sessions/", staff.sessions, name="staff-sessions"),
    path("staff/payments/", staff.payment_list, name="staff-payments"),
    path("staff/payments/<str:order_id>/", staff.payment_detail, name="staff-payment"),
    path("staff/payments/<str:order_id>/refund", staff.refund, name="staff-refund"),
    path("staff/payments/<str:order_id>/sync", staff.sync, name="staff-sync"),
    path("staff/pass/", staff.check_pass, name="staff-check-pass"),
    path("staff/dashboard/", staff.dashboard_view, name="staff-dashboard"),
    # Monthly passes (lots/views_pass.py)
    path("lots/<slug:slug>/pass/", views_pass.pass_new, name="pass-new"),
    path("passes/<int:pk>/", views_pass.pass_detail, name="pass"),
    path("passes/<int:pk>/status", views_pass.pass_status, name="pass-status"),
    path("passes/<int:pk>/setup", views_pass.pass_setup, name="pass-setup"),
    path("passes/<int:pk>/check", views_pass.pass_check, name="pass-check"),
    path("passes/<int:pk>/end", views_pass.pass_end, name="pass-end"),
    path("staff/passes/", views_pass.staff_passes, name="staff-passes"),
    path("staff/passes/<int:pk>/", views_pass.staff_pass, name="staff-pass"),
]

# -- bookings (lots/views_booking.py) ------------------------------------------------------
from . import views_booking as booking  # noqa: E402

urlpatterns += [
    path("lots/<slug:slug>/book/", booking.book, name="book"),
    path("bookings/<int:pk>/", booking.booking, name="booking"),
    path("bookings/<int:pk>/pay", booking.booking_pay, name="booking-pay"),
    path("bookings/<int:pk>/return", booking.booking_return, name="booking-return"),
    path("bookings/<int:pk>/status", booking.booking_status, name="booking-status"),
    path("bookings/<int:pk>/cancel", booking.booking_cancel, name="booking-cancel"),
    path("bookings/<int:pk>/refund", booking.booking_retry_refund, name="booking-retry-refund"),
    path("bookings/<int:pk>/enter", booking.booking_enter, name="booking-enter"),
]

# -- the exit terminal (lots/views_terminal.py) ------------------------------------------
from . import views_terminal as terminal  # noqa: E402

urlpatterns += [
    path("staff/terminal/<slug:slug>/", terminal.terminal, name="staff-terminal"),
    path(
        "staff/terminal/<slug:slug>/<int:pk>/",
        terminal.terminal_ticket,
        name="staff-terminal-ticket",
    ),
    path("staff/terminal/<slug:slug>/<int:pk>/qr", terminal.terminal_qr, name="staff-terminal-qr"),
    path(
        "staff/terminal/<slug:slug>/<int:pk>/status",
        terminal.terminal_status,
        name="staff-terminal-status",
    ),
]
