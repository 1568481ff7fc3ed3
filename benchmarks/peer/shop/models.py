from django.db import models


class Order(models.Model):
    merchant_order_id = models.CharField(max_length=64, unique=True)
    amount = models.BigIntegerField()
    state = models.CharField(max_length=16)
    checkout_url = models.URLField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
