from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.campaigns.models import Campaign, Material
from xueji.campaigns.services import CampaignInput, deadline_errors

PHONE = re.compile(r"^[0-9][0-9\- ]{5,18}[0-9](转[0-9]{1,6})?$")


def _date(label: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


def parse_contacts(text: str) -> list[dict[str, str]]:
    """One contact a line: 姓名 电话 [说明], separated by spaces or commas. ValidationError names the line."""
    contacts = []
    errors = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = [p for p in re.split(r"[\s,，、;；]+", line.strip()) if p]
        if not parts:
            continue
        if len(parts) < 2:
            errors.append(f"第{number}行“{line.strip()}”：请写“姓名 电话 说明”，电话不能省略")
            continue
        name, phone, note = parts[0], parts[1], " ".join(parts[2:])
        if not PHONE.match(phone):
            errors.append(f"第{number}行：“{phone}”不是电话号码（如 010-12345678 或 13800138000）")
            continue
        if len(name) > 20 or len(note) > 50:
            errors.append(f"第{number}行：姓名不超过20个字符，说明不超过50个字符")
            continue
        contacts.append({"name": name, "phone": phone, "note": note})
    if errors:
        raise forms.ValidationError(errors)
    if not contacts:
        raise forms.ValidationError("请至少填写一位联系人及电话")
    return contacts


def contacts_text(contacts: list[dict[str, str]]) -> str:
    return "\n".join(" ".join(v for v in (c["name"], c["phone"], c.get("note", "")) if v) for c in contacts)


class CampaignForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=100, help_text=_("如：2026年度新生学籍备案"))
    intake_year = forms.IntegerField(label=_("年级"), min_value=2000, max_value=2100)
    notice = forms.CharField(label=_("通知正文"), widget=forms.Textarea(attrs={"rows": 12}), max_length=20000)
    contacts = forms.CharField(
        label=_("联系人及电话"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一位：姓名 电话 说明，如“张老师 010-12345678 数据采集”"),
    )
    school_submit_by = _date(_("学校完成提交"))
    school_materials_by = _date(_("学校材料报送区县"))
    district_review_by = _date(_("区县完成审核"))
    district_filing_from = _date(_("区县向市级报送开始"))
    district_filing_until = _date(_("区县向市级报送截止"))

    @classmethod
    def for_campaign(cls, campaign: Campaign, data: Any = None) -> CampaignForm:
        initial = {
            name: getattr(campaign, name) for name in cls.base_fields if name != "contacts" and hasattr(campaign, name)
        }
        initial["contacts"] = contacts_text(campaign.contacts)
        return cls(data, initial=initial)

    def clean_contacts(self) -> list[dict[str, str]]:
        return parse_contacts(self.cleaned_data["contacts"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, message in deadline_errors(cleaned).items():
            if name in cleaned:
                self.add_error(name, message)
        return cleaned

    def campaign_input(self) -> CampaignInput:
        return CampaignInput(**self.cleaned_data)


class ReceiptForm(forms.Form):
    kind = forms.ChoiceField(label=_("材料"), choices=Material.choices)
    received_on = forms.DateField(label=_("接收日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("备注"), max_length=200, required=False)
