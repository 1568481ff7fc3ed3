from shop import views

from django.urls import path

urlpatterns = [
    path("pay", views.create_payment),
    path("healthz", views.healthz),
]
