import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person: signs in by email; the profile fields live here to save a join on every page."""

    # Django removes an inherited field when a subclass sets it to None; the stubs type these
    # as AbstractUser's CharFields and cannot express the removal.
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)

    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    affiliation = models.CharField(
        _("affiliation"), max_length=300, blank=True, help_text=_("Your institution.")
    )
    country = CountryField(_("country"), blank=True)
    orcid = models.CharField(
        _("ORCID iD"), max_length=19, blank=True, help_text=_("For example 0000-0002-1825-0097.")
    )
    expertise = models.JSONField(
        _("fields of expertise"),
        default=list,
        blank=True,
        help_text=_("ERC panel codes, e.g. ['PE6', 'LS2']."),
    )
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        choices=TIME_ZONE_CHOICES,
        help_text=_("Dates are shown in this time zone beside each call's own."),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Pages and emails in this language; empty: the browser's."),
    )
    notify_new_calls = models.BooleanField(
        _("Email me when a new call opens"),
        default=False,
        help_text=_("One email each time a call for proposals opens."),
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # The stubs pin AbstractUser.objects to contrib.auth's UserManager, whose create_user takes
    # a username first; this model has none, so its manager takes the email (Django allows it).
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    # Not fields: accounts.rules.has_manager_role caches its answer on the instance it was
    # asked; accounts.middleware.SecondFactorMiddleware sets whether the session passed the
    # second factor on request.user.
    _is_call_manager: bool
    second_factor_passed: bool

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.UniqueConstraint(
                "orcid", condition=~models.Q(orcid=""), name="user_orcid_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name
