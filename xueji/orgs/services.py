"""Everything that changes organisations and accounts. Each service runs in one transaction with its
audit event; views only call these."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from xueji.audit.services import audit_record
from xueji.orgs.models import (
    Direction,
    Grade,
    MajorOffering,
    Region,
    Role,
    School,
    SchoolClass,
    Term,
    User,
)
from xueji.reference.models import AreaCode, CatalogMajor
from xueji.reference.selectors import current_area, districts_of

# Letters and digits that cannot be mistaken for each other when read off a printed account sheet.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def password_generate(length: int = 10) -> str:
    while True:
        candidate = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        # Django's NumericPasswordValidator and common sense want letters and digits both.
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


# ---------------------------------------------------------------- regions


def city_create(*, code: str) -> Region:
    """Create the city an install serves (an operational command, not a screen)."""
    area = current_area(code)
    if area is None or area.level == AreaCode.Level.COUNTY:
        raise ValidationError(_("%(code)s 不是有效的省级或地级行政区划代码") % {"code": code})
    region, _created = Region.objects.get_or_create(code=code, defaults={"name": area.name, "kind": Region.Kind.CITY})
    return region


def district_add(*, actor: User, city: Region, code: str, request: HttpRequest | None = None) -> Region:
    code = code.strip()
    if not districts_of(city.code).filter(code=code).exists():
        raise ValidationError({"code": _("%(code)s 不是%(city)s现行的区县代码") % {"code": code, "city": city.name}})
    if Region.objects.filter(code=code).exists():
        raise ValidationError({"code": _("区县 %(code)s 已经添加过") % {"code": code}})
    area = current_area(code)
    assert area is not None
    with transaction.atomic():
        region = Region.objects.create(code=code, name=area.name, kind=Region.Kind.DISTRICT, parent=city)
        audit_record(actor=actor, action="district.add", obj=region, after={"code": code}, request=request)
    return region


# ---------------------------------------------------------------- schools

SCHOOL_FIELDS = ("code", "name", "ownership", "address", "contact_phone", "is_active")


def _snapshot(obj: object, fields: Iterable[str]) -> dict[str, object]:
    return {field: getattr(obj, field) for field in fields}


def school_save(
    *, actor: User, school: School, district: Region, is_new: bool, request: HttpRequest | None = None
) -> School:
    """Create or update a school in a district; the form has already validated the fields."""
    if district.kind != Region.Kind.DISTRICT:
        raise ValidationError(_("学校必须属于一个区县"))
    with transaction.atomic():
        before = None
        if not is_new:
            before = _snapshot(School.objects.select_for_update().get(pk=school.pk), SCHOOL_FIELDS)
        school.district = district
        school.full_clean()
        school.save()
        audit_record(
            actor=actor,
            action="school.create" if is_new else "school.update",
            obj=school,
            before=before,
            after=_snapshot(school, SCHOOL_FIELDS),
            request=request,
        )
    return school


# ---------------------------------------------------------------- majors and directions


def offering_add(
    *, actor: User, school: School, major: CatalogMajor, request: HttpRequest | None = None
) -> MajorOffering:
    if MajorOffering.objects.filter(school=school, major=major).exists():
        raise ValidationError({"major": _("本校已开设专业“%(name)s”") % {"name": major.name}})
    with transaction.atomic():
        offering = MajorOffering.objects.create(school=school, major=major)
        audit_record(actor=actor, action="major.add", obj=offering, after={"major": major.code}, request=request)
    return offering


def records_using(obj: models.Model, *, skip: tuple[type[models.Model], ...] = ()) -> list[str]:
    """Every kind of record that points at ``obj`` and how many ("3条招生信息"): why it cannot go."""
    reasons = []
    for relation in obj._meta.related_objects:
        model = relation.related_model
        if isinstance(model, str) or model in skip or not relation.one_to_many:
            continue
        accessor = relation.get_accessor_name()
        count = getattr(obj, accessor).count() if accessor else 0
        if count:
            unit = "名" if model._meta.label == "students.Student" else "条"  # people are counted in 名
            reasons.append(f"{count}{unit}{model._meta.verbose_name}")
    return reasons


def offering_usage(offering: MajorOffering) -> list[str]:
    """Why a major cannot be removed: every kind of record that refers to it."""
    reasons = []
    class_count = offering.classes.count()
    if class_count:
        reasons.append(_("%(n)d个班级") % {"n": class_count})
    return reasons + records_using(offering, skip=(SchoolClass, Direction))


def offering_remove(*, actor: User, offering: MajorOffering, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        offering = MajorOffering.objects.select_for_update().get(pk=offering.pk)
        usage = offering_usage(offering)
        if usage:
            raise ValidationError(
                _("专业“%(name)s”正在使用中（%(usage)s），不能删除")
                % {"name": offering.major.name, "usage": "、".join(usage)}
            )
        audit_record(
            actor=actor, action="major.remove", obj=offering, before={"major": offering.major.code}, request=request
        )
        offering.delete()


def direction_add(*, actor: User, offering: MajorOffering, name: str, request: HttpRequest | None = None) -> Direction:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("请填写专业方向名称")})
    if offering.directions.filter(name=name).exists():
        raise ValidationError(
            {"name": _("专业“%(major)s”下已有方向“%(name)s”") % {"major": offering.major.name, "name": name}}
        )
    with transaction.atomic():
        direction = Direction.objects.create(offering=offering, name=name)
        audit_record(
            actor=actor,
            action="direction.add",
            obj=direction,
            after={"major": offering.major.code, "name": name},
            request=request,
        )
    return direction


def direction_remove(*, actor: User, direction: Direction, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        used = records_using(direction)
        if used:
            raise ValidationError(
                _("专业方向“%(name)s”正在使用中（%(usage)s），不能删除")
                % {"name": direction.name, "usage": "、".join(used)}
            )
        audit_record(
            actor=actor, action="direction.remove", obj=direction, before={"name": direction.name}, request=request
        )
        direction.delete()


# ---------------------------------------------------------------- grades, classes, terms


def grade_add(*, actor: User, school: School, year: int, request: HttpRequest | None = None) -> Grade:
    if not 2000 <= year <= date.today().year + 1:
        raise ValidationError({"year": _("年级应在2000年至%(max)d年之间") % {"max": date.today().year + 1}})
    if Grade.objects.filter(school=school, year=year).exists():
        raise ValidationError({"year": _("%(year)d级已存在") % {"year": year}})
    with transaction.atomic():
        grade = Grade.objects.create(school=school, year=year)
        audit_record(actor=actor, action="grade.add", obj=grade, after={"year": year}, request=request)
    return grade


def grade_remove(*, actor: User, grade: Grade, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        if grade.classes.exists():
            raise ValidationError(_("%(grade)s下还有班级，不能删除") % {"grade": grade})
        from xueji.admissions.models import AdmissionRecord
        from xueji.students.models import Student

        admitted = AdmissionRecord.objects.filter(school=grade.school, grade=grade.year).count()
        enrolled = Student.objects.filter(school=grade.school, grade=grade.year).count()
        if admitted or enrolled:
            raise ValidationError(
                _("%(grade)s正在使用中（%(a)d条招生信息、%(s)d名学生），不能删除")
                % {"grade": grade, "a": admitted, "s": enrolled}
            )
        audit_record(actor=actor, action="grade.remove", obj=grade, before={"year": grade.year}, request=request)
        grade.delete()


CLASS_FIELDS = ("name", "head_teacher")


def class_save(
    *, actor: User, school_class: SchoolClass, is_new: bool, request: HttpRequest | None = None
) -> SchoolClass:
    school = school_class.school
    if school_class.grade.school_id != school.pk:
        raise ValidationError({"grade": _("年级不属于本校")})
    if school_class.offering.school_id != school.pk:
        raise ValidationError({"offering": _("本校未开设该专业")})
    duplicate = SchoolClass.objects.filter(school=school, grade=school_class.grade, name=school_class.name)
    if not is_new:
        duplicate = duplicate.exclude(pk=school_class.pk)
    if duplicate.exists():
        raise ValidationError(
            {"name": _("%(grade)s已有班级“%(name)s”") % {"grade": school_class.grade, "name": school_class.name}}
        )
    with transaction.atomic():
        school_class.save()
        audit_record(
            actor=actor,
            action="class.create" if is_new else "class.update",
            obj=school_class,
            after={
                "grade": school_class.grade.year,
                "major": school_class.offering.major.code,
                **_snapshot(school_class, CLASS_FIELDS),
            },
            request=request,
        )
    return school_class


def class_remove(*, actor: User, school_class: SchoolClass, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        used = records_using(school_class)
        if used:
            raise ValidationError(
                _("班级“%(name)s”正在使用中（%(usage)s），不能删除")
                % {"name": school_class.name, "usage": "、".join(used)}
            )
        audit_record(
            actor=actor,
            action="class.remove",
            obj=school_class,
            before=_snapshot(school_class, CLASS_FIELDS),
            request=request,
        )
        school_class.delete()


def term_save(*, actor: User, term: Term, is_new: bool, request: HttpRequest | None = None) -> Term:
    if term.ends_on <= term.starts_on:
        raise ValidationError({"ends_on": _("结束日期应晚于开始日期")})
    duplicate = Term.objects.filter(school=term.school, start_year=term.start_year, half=term.half)
    if not is_new:
        duplicate = duplicate.exclude(pk=term.pk)
    if duplicate.exists():
        raise ValidationError({"half": _("%(term)s已存在") % {"term": term}})
    with transaction.atomic():
        if term.is_current:
            # Only one current term per school (a partial unique index enforces it too).
            Term.objects.filter(school=term.school, is_current=True).exclude(pk=term.pk).update(is_current=False)
        term.save()
        audit_record(
            actor=actor,
            action="term.create" if is_new else "term.update",
            obj=term,
            after={"term": str(term), "current": term.is_current},
            request=request,
        )
    return term


# ---------------------------------------------------------------- accounts


@dataclass(frozen=True)
class IssuedAccount:
    username: str
    role_label: str
    organisation: str
    password: str

    def as_dict(self) -> dict[str, str]:
        return {
            "username": self.username,
            "role_label": self.role_label,
            "organisation": self.organisation,
            "password": self.password,
        }


def _free_username(base: str) -> str:
    if not User.objects.filter(username=base).exists():
        return base
    n = 2
    while User.objects.filter(username=f"{base}-{n}").exists():
        n += 1
    return f"{base}-{n}"


def _issue(
    *,
    actor: User,
    role: Role,
    username_base: str,
    region: Region | None = None,
    school: School | None = None,
    request: HttpRequest | None,
) -> IssuedAccount:
    password = password_generate()
    user = User(
        username=_free_username(username_base),
        role=role,
        region=region,
        school=school,
        must_change_password=True,
        created_by=actor,
    )
    user.set_password(password)
    user.save()
    audit_record(
        actor=actor,
        action="account.issue",
        obj=user,
        after={"username": user.username, "role": role.value},
        request=request,
    )
    return IssuedAccount(user.username, str(role.label), user.organisation_name, password)


ACCOUNT_PREFIX = {Role.DISTRICT_REVIEWER: "qx", Role.SCHOOL_LEADER: "xl", Role.REGISTRAR: "xj"}


def accounts_issue_for_districts(
    *, actor: User, districts: Sequence[Region], request: HttpRequest | None = None
) -> list[IssuedAccount]:
    """The city issues one 区县审核人 account per chosen district."""
    if actor.role != Role.CITY_ADMIN:
        raise PermissionError
    issued = []
    with transaction.atomic():
        for district in districts:
            if district.parent_id != actor.region_id:
                raise ValidationError(_("%(name)s 不属于本市") % {"name": district.name})
            issued.append(
                _issue(
                    actor=actor,
                    role=Role.DISTRICT_REVIEWER,
                    username_base=f"qx{district.code}",
                    region=district,
                    request=request,
                )
            )
    return issued


def accounts_issue_for_schools(
    *, actor: User, schools: Sequence[School], roles: Sequence[Role], request: HttpRequest | None = None
) -> list[IssuedAccount]:
    """A district issues, for each chosen school, one account of each chosen school role."""
    if actor.role != Role.DISTRICT_REVIEWER:
        raise PermissionError
    if not roles or any(role not in (Role.SCHOOL_LEADER, Role.REGISTRAR) for role in roles):
        raise ValidationError(_("请选择要开设的学校账号类型"))
    issued = []
    with transaction.atomic():
        for school in schools:
            if school.district_id != actor.region_id:
                raise ValidationError(_("%(name)s 不属于本区县") % {"name": school.name})
            for role in roles:
                issued.append(
                    _issue(
                        actor=actor,
                        role=role,
                        username_base=f"{ACCOUNT_PREFIX[role]}{school.code}",
                        school=school,
                        request=request,
                    )
                )
    return issued


def account_set_active(*, actor: User, account: User, active: bool, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        User.objects.filter(pk=account.pk).update(is_active=active)
        audit_record(
            actor=actor,
            action="account.enable" if active else "account.disable",
            obj=account,
            before={"is_active": account.is_active},
            after={"is_active": active},
            request=request,
        )
    account.is_active = active


def account_reset_password(*, actor: User, account: User, request: HttpRequest | None = None) -> IssuedAccount:
    password = password_generate()
    with transaction.atomic():
        account.set_password(password)
        account.must_change_password = True
        account.save(update_fields=["password", "must_change_password"])
        audit_record(actor=actor, action="account.reset_password", obj=account, request=request)
    return IssuedAccount(account.username, str(account.get_role_display()), account.organisation_name, password)


def account_password_changed(*, user: User, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        audit_record(actor=user, action="account.change_password", obj=user, request=request)
    user.must_change_password = False
