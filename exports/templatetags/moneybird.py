"""`{{ document.status|state_label }}`: a Moneybird state as staff read it (`exports.models.state_label`)."""

from django import template

from exports.models import state_label

register = template.Library()
register.filter("state_label", state_label)
