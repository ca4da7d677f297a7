"""The 新增 / 编辑 form, generated from the field catalog.

Every input is a plain text or select widget; the validator (``xueji.records.validator``) is the one
judge of what is valid, so the form, the import and the pre-check can never disagree. The form only
decides how each field is offered: code tables and the school's majors, directions, grades and classes as
drop-downs, the rest as text boxes.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

from django import forms
from django.forms import BoundField

from xueji.admissions.models import AdmissionRecord
from xueji.records.catalog import FIELDS, Field, Kind, Required
from xueji.records.codes import code_table, country_table
from xueji.records.context import SchoolCatalog
from xueji.records.idnumber import check_document

EMPTY = ("", "请选择")
# The fields whose value the ID number can give; the form refreshes them as the user types the number.
DERIVED_KEYS = ("gender", "birth_date", "hmt_status", "household_region", "origin_region")


def derived_values(id_type: str, number: str) -> dict[str, str] | None:
    """What a valid document number says about its holder, by form field; None while the number is wrong."""
    result = check_document(id_type or "1", number)
    if not number or result.errors:
        return None
    values = {
        "gender": result.gender,
        "birth_date": result.birth_date.isoformat() if result.birth_date else None,
        "hmt_status": result.hmt,
        "household_region": result.suggested_region,
        "origin_region": result.suggested_region,
    }
    return {key: value for key, value in values.items() if value}


def derived_source(id_type: str, number: str) -> str:
    """The form's hidden ``derived_from``: the document the derived fields were last filled from."""
    return f"{id_type or '1'}|{number}"


def refresh_derived(data: MutableMapping[str, str], id_type: str, number: str) -> str | None:
    """Fill the derived fields from a valid number: a blank field, or one still holding what the previous
    number (``derived_from``) gave, takes the new value; a value the user chose is kept. So correcting a
    mistyped number in 编辑学籍 moves 出生日期 and 性别 with it. Gives the new ``derived_from``, None while the
    number is wrong (the fields stay as they are until it is right)."""
    derived = derived_values(id_type, number)
    if derived is None:
        return None
    previous_type, _, previous_number = (data.get("derived_from") or "").partition("|")
    before = (derived_values(previous_type, previous_number) or {}) if previous_number else {}
    for key, value in derived.items():
        current = data.get(key) or ""
        if not current or current == before.get(key):
            data[key] = value
    return derived_source(id_type, number)


def _choices(f: Field, catalog: SchoolCatalog, major: str | None) -> list[tuple[str, str]] | None:
    if f.kind is Kind.CODE and f.code_table:
        return [EMPTY, *code_table(f.code_table).items]
    if f.kind is Kind.COUNTRY:
        return [EMPTY, *country_table().items]
    if f.kind is Kind.MAJOR and catalog.majors:
        return [EMPTY, *((m.code, m.label) for m in catalog.majors)]
    if f.kind is Kind.DIRECTION and catalog.majors:
        chosen = catalog.major_by_code.get(major or "")
        names = chosen.directions if chosen else ()
        return [("", "无（该专业未设方向）" if chosen and not names else "请先选择专业"), *((n, n) for n in names)]
    if f.kind is Kind.GRADE and catalog.grades:
        return [EMPTY, *((str(g), f"{g}级") for g in sorted(catalog.grades, reverse=True))]
    if f.kind is Kind.CLASS and catalog.classes:
        return [("", "不分班")] + [(c.name, f"{c.name}（{c.grade}级）") for c in catalog.classes]
    return None


class AdmissionForm(forms.Form):
    """Fields keyed like the catalog. ``raw()`` gives what the validator reads."""

    def __init__(self, data: Mapping[str, object] | None, *, catalog: SchoolCatalog, initial: dict | None = None):
        super().__init__(data, initial=initial)  # type: ignore[arg-type]
        major = str((data or {}).get("major") or (initial or {}).get("major") or "")
        for f in FIELDS:
            choices = _choices(f, catalog, major)
            attrs: dict[str, str] = {"data-kind": str(f.kind)}
            if f.example:
                attrs["placeholder"] = f"如：{f.example}"
            if choices is not None:
                widget: forms.Widget = forms.Select(choices=choices, attrs=attrs)
            else:
                if f.max_length:
                    attrs["maxlength"] = str(f.max_length)
                widget = forms.TextInput(attrs=attrs)
            self.fields[f.key] = forms.CharField(label=f.label, required=False, widget=widget, help_text=f.help)

    def raw(self) -> dict[str, object]:
        data = self.data
        return {f.key: (data.get(f.key) or None) for f in FIELDS}  # type: ignore[union-attr]


@dataclass(frozen=True)
class FormRow:
    spec: Field
    bound: BoundField

    @property
    def star(self) -> bool:
        return self.spec.required is Required.ALWAYS

    @property
    def conditional(self) -> str:
        return self.spec.rule if self.spec.required is Required.RULE else ""


def form_groups(form: AdmissionForm) -> list[tuple[str, list[FormRow]]]:
    """The form's fields in the catalog's groups and order (身份信息, 户籍与住址, 招生信息, 联系信息)."""
    groups: dict[str, list[FormRow]] = {}
    for f in FIELDS:
        groups.setdefault(f.group or "其他", []).append(FormRow(f, form[f.key]))
    return list(groups.items())


def record_initial(record: AdmissionRecord) -> dict[str, str]:
    """A record's stored clean values as the form shows them (codes for selects, ISO dates)."""
    values: dict[str, str] = {}
    for key, value in record.data.items():
        values[key] = "" if value is None else str(value)
    if record.direction_id:
        values["direction"] = record.direction.name if record.direction else values.get("direction", "")
    return values
