"""Reference data: loaded from the packaged files, idempotently."""

from __future__ import annotations

import pytest

from xueji.reference.models import AreaCode, CatalogMajor, CodeItem, Country
from xueji.reference.selectors import districts_of
from xueji.reference.services import reference_load


@pytest.mark.django_db
def test_reloading_reference_data_changes_nothing() -> None:
    before = (AreaCode.objects.count(), CatalogMajor.objects.count(), CodeItem.objects.count(), Country.objects.count())
    summary = reference_load()
    after = (AreaCode.objects.count(), CatalogMajor.objects.count(), CodeItem.objects.count(), Country.objects.count())
    assert before == after == (summary.area_codes, summary.majors, summary.code_items, summary.countries)
    assert after == (6823, 368, 156, 249)


@pytest.mark.django_db
def test_abolished_and_renamed_division_codes_keep_their_periods() -> None:
    chongwen = AreaCode.objects.get(code="110103")
    assert (chongwen.name, chongwen.in_use, chongwen.valid_until, chongwen.new_codes) == (
        "崇文区",
        False,
        2010,
        "110101",
    )
    # 120110 was 东郊区 until 1992 and is 东丽区 since: both periods are kept.
    assert list(AreaCode.objects.filter(code="120110").values_list("name", flat=True)) == ["东郊区", "东丽区"]


@pytest.mark.django_db
def test_beijing_has_its_sixteen_current_districts() -> None:
    names = list(districts_of("110000").values_list("name", flat=True))
    assert len(names) == 16 and "延庆区" in names and "崇文区" not in names


@pytest.mark.django_db
def test_code_tables_and_catalog_are_complete() -> None:
    assert CodeItem.objects.get(table="民族", code="01").name == "汉族"
    assert CodeItem.objects.filter(table="民族").count() == 58
    assert CodeItem.objects.get(table="招生方式", code="1").name == "统一招生"
    assert CatalogMajor.objects.get(code="710201").name == "计算机应用"


@pytest.mark.django_db
def test_countries_have_chinese_names_and_the_gbt2659_labels() -> None:
    assert Country.objects.get(alpha3="HKG").name == "中国香港"
    assert Country.objects.get(alpha3="MAC").name == "中国澳门"
    assert Country.objects.get(alpha3="TWN").name == "中国台湾"
    assert Country.objects.get(alpha3="CHN").name == "中国"
    assert Country.objects.get(alpha3="FRA").name == "法国"
