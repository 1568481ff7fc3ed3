"""Smart Parking: an example Django project that takes parking fees with PhonePe."""
