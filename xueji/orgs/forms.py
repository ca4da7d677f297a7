from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xueji.orgs.models import Grade, MajorOffering, Region, Role, School, SchoolClass, Term
from xueji.reference.models import CatalogMajor


class DistrictAddForm(forms.Form):
    code = forms.ChoiceField(label=_("区县"))

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [("", "请选择区县"), *choices]  # type: ignore[attr-defined]


class SchoolForm(forms.ModelForm):
    class Meta:
        model = School
        fields = ["code", "name", "ownership", "address", "contact_phone", "is_active"]
        widgets = {"code": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 10})}

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not code.isdigit() or len(code) != 10:
            raise forms.ValidationError(_("学校标识码应为10位数字，当前为“%(code)s”"), params={"code": code})
        clash = School.objects.filter(code=code).exclude(pk=self.instance.pk).first()
        if clash is not None:
            raise forms.ValidationError(
                _("学校标识码 %(code)s 已被“%(name)s”使用"), params={"code": code, "name": clash.name}
            )
        return code

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())


class SchoolFilterForm(forms.Form):
    district = forms.ModelChoiceField(
        queryset=Region.objects.none(), required=False, label=_("区县"), empty_label="全部区县"
    )
    q = forms.CharField(required=False, label=_("学校名称或代码"))

    def __init__(self, *args: Any, districts: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts  # type: ignore[attr-defined]


class OfferingAddForm(forms.Form):
    major = forms.ModelChoiceField(
        queryset=CatalogMajor.objects.all(), label=_("专业（2021年中职专业目录）"), empty_label="请选择专业"
    )

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        taken = MajorOffering.objects.filter(school=school).values("major_id")
        self.fields["major"].queryset = CatalogMajor.objects.exclude(pk__in=taken)  # type: ignore[attr-defined]
        self.fields["major"].label_from_instance = lambda m: f"{m.code} {m.name}（{m.subcategory}）"  # type: ignore[attr-defined]


class DirectionAddForm(forms.Form):
    name = forms.CharField(label=_("专业方向名称"), max_length=64)


class GradeAddForm(forms.Form):
    year = forms.IntegerField(label=_("年级（入学年份）"), min_value=2000, max_value=2100)


class SchoolClassForm(forms.ModelForm):
    class Meta:
        model = SchoolClass
        fields = ["grade", "offering", "name", "head_teacher"]

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grade"].queryset = Grade.objects.filter(school=school)  # type: ignore[attr-defined]
        self.fields["offering"].queryset = MajorOffering.objects.filter(school=school).select_related("major")  # type: ignore[attr-defined]
        self.fields["offering"].label_from_instance = lambda o: f"{o.major.code} {o.major.name}"  # type: ignore[attr-defined]
        self.fields["offering"].error_messages["invalid_choice"] = _("本校未开设该专业，请先在“专业与方向”中添加")
        self.fields["grade"].error_messages["invalid_choice"] = _("年级不存在，请先在“年级”中添加")

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())


class TermForm(forms.ModelForm):
    class Meta:
        model = Term
        fields = ["start_year", "half", "starts_on", "ends_on", "is_current"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends <= starts:
            self.add_error("ends_on", _("结束日期应晚于开始日期"))
        return data


def _with_account_count(obj: Region | School) -> str:
    return f"{obj.code} {obj.name}（{getattr(obj, 'account_count', 0)}）"


class DistrictAccountIssueForm(forms.Form):
    districts = forms.ModelMultipleChoiceField(
        queryset=Region.objects.none(), label=_("区县"), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, districts: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["districts"].queryset = districts  # type: ignore[attr-defined]
        self.fields["districts"].label_from_instance = _with_account_count  # type: ignore[attr-defined]
        self.fields["districts"].error_messages["required"] = _("请至少选择一个区县")


class SchoolAccountIssueForm(forms.Form):
    schools = forms.ModelMultipleChoiceField(
        queryset=School.objects.none(), label=_("学校"), widget=forms.CheckboxSelectMultiple
    )
    roles = forms.MultipleChoiceField(
        label=_("账号类型"),
        choices=[(Role.REGISTRAR.value, Role.REGISTRAR.label), (Role.SCHOOL_LEADER.value, Role.SCHOOL_LEADER.label)],
        widget=forms.CheckboxSelectMultiple,
        initial=[Role.REGISTRAR.value, Role.SCHOOL_LEADER.value],
    )

    def __init__(self, *args: Any, schools: QuerySet[School], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["schools"].queryset = schools  # type: ignore[attr-defined]
        self.fields["schools"].label_from_instance = _with_account_count  # type: ignore[attr-defined]
        self.fields["schools"].error_messages["required"] = _("请至少选择一所学校")
        self.fields["roles"].error_messages["required"] = _("请至少选择一种账号类型")
