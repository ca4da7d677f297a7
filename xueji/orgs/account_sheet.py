from __future__ import annotations

from typing import IO

from xueji.records.workbook import new_workbook


def account_sheet_xlsx(target: IO[bytes], issued: list[dict[str, str]]) -> None:
    """The printable sheet of newly issued accounts with their one-time passwords."""
    # strings_to_formulas off: an organisation name is data, never a formula.
    workbook = new_workbook(target)
    sheet = workbook.add_worksheet("账号单")
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    cell = workbook.add_format({"border": 1})
    mono = workbook.add_format({"border": 1, "font_name": "Consolas"})
    columns = [
        ("单位", 36, "organisation"),
        ("角色", 14, "role_label"),
        ("用户名", 18, "username"),
        ("一次性密码", 16, "password"),
    ]
    for col, (label, width, _key) in enumerate(columns):
        sheet.write_string(0, col, label, header)
        sheet.set_column(col, col, width)
    for row, account in enumerate(issued, start=1):
        for col, (_label, _width, key) in enumerate(columns):
            sheet.write_string(row, col, account[key], mono if key in ("username", "password") else cell)
    sheet.write_string(len(issued) + 2, 0, "首次登录后须立即修改密码。本表只可下载一次，请妥善保管。")
    sheet.freeze_panes(1, 0)
    workbook.close()
