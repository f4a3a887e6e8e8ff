from django.db import models
from django.utils.translation import gettext_lazy as _

from allocations.enums import ChargeRule


class Resource(models.Model):
    """What is awarded: a machine or partition and its unit (PRODUCT §2)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.SlugField(
        _("code"), max_length=40, unique=True, help_text=_("Short name, e.g. jupiter-booster.")
    )
    unit = models.CharField(_("unit"), max_length=40, help_text=_("e.g. GPU-hours, core-hours, TB"))
    description = models.TextField(_("description"), blank=True)
    slurm_cluster = models.CharField(_("Slurm cluster"), max_length=64, blank=True)
    slurm_partition = models.CharField(_("Slurm partition"), max_length=64, blank=True)
    charge_rule = models.CharField(
        _("charge rule"), max_length=16, choices=ChargeRule, default=ChargeRule.GPU
    )
    charge_factor = models.DecimalField(
        _("charge factor"), max_digits=8, decimal_places=4, default=1
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(charge_factor__gt=0), name="resource_charge_factor_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(charge_rule__in=ChargeRule.values),
                name="resource_charge_rule_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"
