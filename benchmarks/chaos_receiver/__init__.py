"""The chaos campaign's test receiver: counts ``payment_completed`` signals in a table.

Installed into each ``phonepe serve`` of the campaign with
``PHONEPE_SERVICE_EXTRA_APPS=benchmarks.chaos_receiver``. ``chaos_completion`` has a
unique merchant order id, so a second delivery for one payment cannot hide: it lands in
``chaos_completion_dup``. The tables are created by ``benchmarks/chaos.py``.
"""
