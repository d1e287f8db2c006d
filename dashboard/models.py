from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from dashboard.roles import Role


def public_id(prefix: str) -> str:
    """An opaque id shown to users instead of an integer primary key."""
    return f"{prefix}_{secrets.token_urlsafe(12).replace('-', 'x').replace('_', 'y')}"


def new_invitation_id() -> str:
    return public_id("inv")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A team login. Connected accounts never get one (they use login links)."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Account(models.Model):
    """The tenant: one business or platform with its own Stripe connection and team."""

    slug = models.SlugField(
        max_length=50,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Lowercase letters, digits, dashes.")],
    )
    name = models.CharField(max_length=120)
    country = models.CharField(max_length=2, default="US")
    default_currency = models.CharField(max_length=3, default="usd")
    timezone = models.CharField(max_length=64, default="UTC")
    display_name = models.CharField(max_length=120, blank=True)
    icon = models.CharField(max_length=8, blank=True, help_text="An emoji or up to 2 letters.")
    primary_color = models.CharField(
        max_length=7,
        default="#635bff",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour like #635bff.")],
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def brand_name(self) -> str:
        return self.display_name or self.name

    @property
    def monogram(self) -> str:
        return self.icon or self.brand_name[:1].upper()


class TenantModel(models.Model):
    """Base of every tenant-owned model: queries outside an account scope raise.

    The tenant middleware enters the scope for a whole request; tasks enter it themselves.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")

    objects = ScopedManager(account="account")

    class Meta:
        abstract = True


class Membership(TenantModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="membership_set")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    # The shell's test-mode toggle, remembered per user and account.
    test_mode = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="membership_unique_user")
        ]
        ordering = ["created"]

    def __str__(self) -> str:
        return f"{self.user} in {self.account_id} as {self.role}"

    @property
    def livemode(self) -> bool:
        return not self.test_mode


class Invitation(TenantModel):
    public_id = models.CharField(max_length=32, unique=True, default=new_invitation_id)
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    # Only the SHA-256 of the token is kept; the token itself lives in the emailed link.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class AuditLog(TenantModel):
    """Who did what, from where: written by services for every team and settings action."""

    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_email = models.EmailField(blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=255, blank=True)
    object_repr = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["account", "-created"], name="auditlog_account_created")]


class Pin(TenantModel):
    """A page pinned to the Shortcuts menu by one user in one account."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=500)
    title = models.CharField(max_length=120)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user", "path"], name="pin_unique_path")
        ]
        ordering = ["created"]


class RecentPage(TenantModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=500)
    title = models.CharField(max_length=120)
    visited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user", "path"], name="recent_unique_path")
        ]
        ordering = ["-visited_at"]


class HomeLayout(TenantModel):
    """The widgets one member chose for the Home page of one account, in order."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    # Widget keys from dashboard.widgets, in display order.
    widgets = models.JSONField(default=list)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="homelayout_unique_user")
        ]
