from django.apps import AppConfig


class HcxConfig(AppConfig):
    """The HCX and AVS clients, the HCX set-up objects and jobs, and the HCX simulator."""

    name = "hcx"
    verbose_name = "HCX"
