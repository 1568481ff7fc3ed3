"""The reusable Django payments app (``INSTALLED_APPS += ["phonepe_gateway.django"]``, label ``phonepe``)."""
