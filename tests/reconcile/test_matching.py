"""The matching rules on their own: categories, name normalisation, the typo flag."""

from __future__ import annotations

from xueji.reconcile.matching import (
    Category,
    Registered,
    RosterRow,
    counts,
    in_scope,
    likely_typo,
    names_agree,
    normalise_name,
    reconcile,
)

A, B = "3111010001", "3111010002"


def person(pk: int, name: str, *, school: str = A, candidate: str = "", id_number: str = "", checked_in: bool = True,
           former: tuple[str, ...] = ()) -> Registered:  # fmt: skip
    return Registered(pk, pk if checked_in else None, school, name, id_number, candidate, "", checked_in, former)


def row(pk: int, name: str, *, school: str = A, candidate: str = "", id_number: str = "") -> RosterRow:
    return RosterRow(pk, school, name, id_number, candidate)


def test_names_compare_without_width_and_spaces() -> None:
    assert normalise_name(" 王\u3000小 明 ") == "王小明"
    assert names_agree("ＡＢＣ 李", "abc李")
    assert names_agree("买买提·艾力", "买买提艾力")
    assert not names_agree("王小明", "王晓明")


def test_one_character_apart_is_a_likely_typo() -> None:
    assert likely_typo("王小明", "王晓明")  # a homophone typed by pinyin
    assert likely_typo("欧阳娜娜", "欧阳娜")  # one character dropped
    assert likely_typo("张三丰", "张丰三")  # neighbours swapped
    assert not likely_typo("王小明", "李大伟")
    assert not likely_typo("王小明", "王小明")
    assert not likely_typo("王 小明", "王小明")  # equal once normalised: not a mismatch at all


def test_every_category() -> None:
    registered = [
        person(1, "王小明", candidate="C1"),  # 一致
        person(2, "李晓红", id_number="110101201005120027"),  # 姓名不符, typo
        person(3, "赵六"),  # 无录取记录
        person(4, "孙七", candidate="C4"),  # 录取学校不符
        person(5, "周八", candidate="C5", checked_in=False),  # 录取未报到 (admission never checked in)
        person(6, "ＷＵ 九", candidate="C6"),  # 一致 after normalising
    ]
    roster = [
        row(11, "王小明", candidate="C1"),
        row(12, "李小红", id_number="110101201005120027"),
        row(14, "孙七", school=B, candidate="C4"),
        row(15, "周八", candidate="C5"),
        row(16, "wu九", candidate="C6"),
        row(17, "郑十", candidate="C7"),  # on the roster, no admission at all: 录取未报到
    ]
    findings = reconcile(registered, roster)
    by_person = {f.registered.admission_id: f for f in findings if f.registered}
    assert by_person[1].category == Category.MATCH
    assert by_person[2].category == Category.NAME_MISMATCH and by_person[2].likely_typo
    assert by_person[3].category == Category.NO_ROSTER
    assert by_person[4].category == Category.WRONG_SCHOOL
    assert by_person[5].category == Category.NOT_CHECKED_IN
    assert by_person[6].category == Category.MATCH
    roster_only = [f for f in findings if f.registered is None]
    assert [f.roster.entry_id for f in roster_only if f.roster] == [17]
    assert roster_only[0].category == Category.NOT_CHECKED_IN
    assert counts(findings) == {
        Category.MATCH: 2,
        Category.NAME_MISMATCH: 1,
        Category.NO_ROSTER: 1,
        Category.WRONG_SCHOOL: 1,
        Category.NOT_CHECKED_IN: 2,
    }


def test_candidate_number_is_preferred_to_id_number() -> None:
    registered = [person(1, "王小明", candidate="C1", id_number="X")]
    roster = [row(10, "别人", id_number="X"), row(11, "王小明", candidate="c1")]
    assert reconcile(registered, roster)[0].category == Category.MATCH


def test_a_former_name_resolves_the_mismatch() -> None:
    findings = reconcile([person(1, "王新名", candidate="C1", former=("王小明",))], [row(11, "王小明", candidate="C1")])
    assert findings[0].category == Category.MATCH and findings[0].resolved_by_former_name


def test_scope_keeps_findings_of_either_school() -> None:
    findings = reconcile([person(4, "孙七", candidate="C4")], [row(14, "孙七", school=B, candidate="C4")])
    assert len(in_scope(findings, {A})) == 1
    assert len(in_scope(findings, {B})) == 1
    assert in_scope(findings, {"3111050001"}) == []
