"""招生信息管理: the template download and the pre-check (开始检查), on the web and on the command line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from python_calamine import CalamineWorkbook

from tests.conftest import World
from tests.records.helpers import valid_row
from xueji.records.template import write_template


def _row(serial: int, **overrides: object) -> dict[str, object]:
    base = {"grade": "2026", "direction": "网络应用", "enrolment_month": "2026-09", "class_name": ""}
    return valid_row(serial, **{**base, **overrides})


def _filled_template(rows: list[dict[str, object]]) -> bytes:
    buffer = io.BytesIO()
    write_template(buffer, None, data=rows)
    return buffer.getvalue()


def _sheet_rows(content: bytes, sheet: str | None = None) -> list[list[object]]:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return (workbook.get_sheet_by_name(sheet) if sheet else workbook.get_sheet_by_index(0)).to_python()


def test_registrar_template_offers_the_schools_majors_and_directions(world: World) -> None:
    response = world.client_for(world.registrar_a).get(reverse("admissions:template"))
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert {"采集指标说明", "字典"} <= set(workbook.sheet_names)
    everything = json.dumps(
        [workbook.get_sheet_by_name(n).to_python() for n in workbook.sheet_names], default=str, ensure_ascii=False
    )
    assert "计算机应用" in everything and "网络应用" in everything
    assert "汽车运用与维修" not in everything  # school C's major is not school A's choice


def test_precheck_reports_rows_and_fields_without_importing(world: World) -> None:
    rows = [_row(1), _row(2, ethnicity="火星族"), _row(3, major="汽车运用与维修", direction="")]
    upload = SimpleUploadedFile("名单.xlsx", _filled_template(rows))
    client = world.client_for(world.registrar_a)
    response = client.post(reverse("admissions:precheck"), {"file": upload})
    assert response.status_code == 200
    report = response.context["report"]
    assert report.rows_checked == 3 and report.rows_with_errors == 2
    page = response.content.decode()
    assert "民族" in page and "火星族" in page
    assert "汽车运用与维修" in page and "计算机应用" in page  # the unknown major lists the school's choices
    # The annotated workbook comes back to this user only, with the reasons in the last column.
    token = response.context["token"]
    annotated = client.get(reverse("admissions:precheck_annotated", args=[token]))
    sheet = _sheet_rows(b"".join(annotated.streaming_content))
    header = next(r for r in sheet if "失败原因" in r)
    assert header[-1] == "失败原因"
    reasons = [r[-1] for r in sheet if r and r[-1] and r[-1] != "失败原因"]
    assert any("火星族" in str(r) or "民族" in str(r) for r in reasons)
    other = world.client_for(world.registrar_b).get(reverse("admissions:precheck_annotated", args=[token]))
    assert other.status_code == 404


def test_precheck_of_a_clean_file_says_all_rows_pass(world: World) -> None:
    upload = SimpleUploadedFile("ok.xlsx", _filled_template([_row(1), _row(2)]))
    response = world.client_for(world.registrar_a).post(reverse("admissions:precheck"), {"file": upload})
    assert response.context["report"].rows_with_errors == 0
    assert "全部行检查通过" in response.content.decode()


def test_precheck_refuses_an_unreadable_file_with_one_clear_message(world: World) -> None:
    upload = SimpleUploadedFile("名单.xlsx", b"PK\x03\x04 this is not really a workbook")
    response = world.client_for(world.registrar_a).post(reverse("admissions:precheck"), {"file": upload})
    assert response.status_code == 200
    assert response.context["report"].file_errors
    assert "无法检查" in response.content.decode()


def test_precheck_accepts_a_gbk_csv(world: World) -> None:
    from xueji.records.catalog import FIELDS_BY_KEY

    row = _row(1)
    keys = list(row)
    text = ",".join(FIELDS_BY_KEY[k].label for k in keys) + "\n" + ",".join(str(row[k]) for k in keys) + "\n"
    upload = SimpleUploadedFile("名单.csv", text.encode("gbk"))
    response = world.client_for(world.registrar_a).post(reverse("admissions:precheck"), {"file": upload})
    report = response.context["report"]
    assert not report.file_errors and report.rows_checked == 1 and report.rows_with_errors == 0


def test_cli_check_exits_nonzero_with_json_report(world: World, tmp_path: Path) -> None:
    # The command reads the school from the database the test uses only through its own settings, so
    # here the pure file check (no --school) is exercised; the school-aware path is tested on the web.
    source = tmp_path / "名单.xlsx"
    source.write_bytes(_filled_template([_row(1), _row(2, id_number="110105200801011234")]))
    env = {**os.environ, "XUEJI_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "xueji", "check", str(source), "--json", "-o", str(tmp_path / "out.xlsx")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["rows_checked"] == 2 and report["summary"]["rows_with_errors"] == 1
    assert report["rows"][0]["row"] == 3 and report["rows"][0]["errors"][0]["label"] == "身份证件号"
    assert (tmp_path / "out.xlsx").exists()


def test_cli_template_with_the_schools_choices(world: World, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from python_calamine import CalamineWorkbook

    from xueji.cli import main as cli_main

    target = tmp_path / "模板.xlsx"
    assert cli_main(["template", "--school", world.school_a.code, "-o", str(target)]) == 0
    assert f"已生成导入模板：{target}" in capsys.readouterr().out
    workbook = CalamineWorkbook.from_path(str(target))
    assert {"采集指标说明", "字典"} <= set(workbook.sheet_names)
    texts = {
        str(c) for sheet in workbook.sheet_names for row in workbook.get_sheet_by_name(sheet).to_python() for c in row
    }
    assert any("网络应用" in t for t in texts)  # the school's own direction is offered
    assert cli_main(["template", "--school", "9999999999", "-o", str(target)]) == 1
    assert "学校标识码 9999999999 不存在" in capsys.readouterr().err
