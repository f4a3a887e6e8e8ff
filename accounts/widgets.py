"""Widgets drawn in Python for forms with hundreds of fields on one page.

Django draws each widget through its template engine: about half a millisecond a field, so
the decisions page's 200 fields cost 100 ms. These widgets write the same HTML as Django's
templates (``django/forms/widgets/input.html``, ``select.html``, ``textarea.html``; a test
compares them) with ``format_html``, which escapes every value the same way.
"""

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict) -> SafeString:
    """`` name="value"`` for each attribute, `` name`` for True, nothing for False."""
    return mark_safe(
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False
        )
    )


class NumberInput(forms.NumberInput):
    def _render(self, template_name, context, renderer=None) -> SafeString:
        widget = context["widget"]
        value = widget["value"]
        shown = format_html(' value="{}"', value) if value is not None else ""
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            shown,
            _attrs(widget["attrs"]),
        )


class Textarea(forms.Textarea):
    def _render(self, template_name, context, renderer=None) -> SafeString:
        widget = context["widget"]
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            widget["name"],
            _attrs(widget["attrs"]),
            widget["value"] or "",
        )


class Select(forms.Select):
    def _render(self, template_name, context, renderer=None) -> SafeString:
        widget = context["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            drawn = format_html_join(
                "",
                '\n  <option value="{}"{}>{}</option>\n',
                ((option["value"], _attrs(option["attrs"]), option["label"]) for option in options),
            )
            if group_name:
                drawn = format_html('\n  <optgroup label="{}">{}\n  </optgroup>', group_name, drawn)
            groups.append(drawn)
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            _attrs(widget["attrs"]),
            mark_safe("".join(groups)),
        )
