from __future__ import annotations

from django import template

from dashboard.money import format_money
from dashboard.roles import role_can

register = template.Library()


@register.filter
def can(membership, action: str) -> bool:
    """`{% if membership|can:"payments.refund" %}`: the member's role allows the action."""
    return membership is not None and role_can(membership.role, action)


@register.filter
def money(amount, currency: str) -> str:
    """`{{ payment.amount|money:payment.currency }}` -> "$25.00", "¥2,500", "-€4.10"."""
    return format_money(amount, currency or "usd")


@register.simple_tag(takes_context=True)
def account_url(context, name: str, *args) -> str:
    from django.urls import reverse

    return reverse(name, args=[context["account"].slug, *args])
