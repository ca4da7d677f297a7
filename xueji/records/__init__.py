"""Admission records without Django: the field catalog, ID numbers, the validator, reading uploaded
workbooks, the import template and the pre-check (开始检查). Importable without settings; nothing here
touches the database. Reference data comes from the package files in ``xueji/reference/data/``.

Public API (what the Django side, the CLI and the API call):

Context — built from the database by the caller::

    from xueji.records.context import SchoolCatalog, MajorChoice, ClassChoice, RowContext
    school = SchoolCatalog(code="1111000001", name="…",
                           majors=(MajorChoice("710201", "计算机应用", ("网络技术",)), …),
                           grades=(2023, 2024),
                           classes=(ClassChoice("2024计算机1班", 2024, "710201"), …))
    # or SchoolCatalog.build(code=…, name=…, majors=[(code, name, [directions…]), …], grades=[…])
    ctx = RowContext(school=school)          # school=None: majors checked against the national catalog
                                             # today= defaults to date.today(); fixed per run

Field catalog — ``xueji.records.catalog``::

    FIELDS: tuple[Field, ...]                # key, label, kind, required, max_length, help, example,
                                             # code_table, derivable, rule, required_when, aliases, group
    FIELDS_BY_KEY: dict[str, Field]
    field_for_header(text) -> Field | None   # "★姓名", "身份证号码", "姓 名" …
    required_columns() -> tuple[Field, ...]
    fields_markdown() -> str                 # the README table

One row (single-add form, API) — ``xueji.records.validator``::

    validate_row(raw: Mapping[str, object], ctx: RowContext) -> tuple[dict[str, object], list[FieldError]]
        # raw keyed by field key; clean holds codes ("01"), dates, Decimal, int (年级), trimmed text and the
        # values derived from the ID number (性别, 出生日期, 港澳台侨外).
    FieldError(key, label, value, message, severity: "error" | "warning", suggestion) .to_dict()
    has_errors(errors) -> bool
    RowValidator(ctx).validate(raw)          # the same, compiled once: use it in loops
    RowValidator(ctx).for_columns(keys)(cells)   # rows as lists of cells, keys[i] the field of cell i (files)
    DuplicateIdTracker().check(row_number, id_number) -> FieldError | None   # "与第N行身份证件号重复"

A file (pre-check, import) — ``xueji.records.check`` / ``xueji.records.workbook``::

    run_check(path, ctx, *, json_output=False, annotated_out=None, only_failed=False, stdout=None) -> int
        # `xueji check FILE --school CODE [--json] [-o OUT.xlsx]`: prints, writes, returns the exit code
        # 0 no errors (warnings allowed) / 1 rows with errors / 2 the file cannot be checked
    check_file(path, ctx, *, limits=DEFAULT_LIMITS, progress=None) -> CheckReport
        # never raises for a bad file; CheckReport.to_dict() / .to_json() / .to_text() / .exit_code / .ok
    write_annotated(source, report, out, *, only_failed=False) -> int   # bad cells red, 失败原因 column
    check_rows(open_table(path), ctx) -> Iterator[(row_number, clean, errors)]   # for the background import
    check_rows_with_cells(table, ctx, *, duplicates=True) -> Iterator[(row_number, clean, errors, cells)]
    AnnotatedWriter(table, out, only_failed=…).row(number, cells, row_report) / .close()   # row by row
    reader.BatchReader(path, ctx, columns=…, skip=…, batch_size=…, split_from_bytes=…)   # the same in child
        # processes (a large xlsx cut in two by split.sheet_part), in batches of (row_number, values of
        # columns, clean row as JSON, errors) while the caller writes; .ack(refused row numbers) per batch,
        # .arrived() -> the refused rows' cells, .finish() -> (rows, cells still owed)
    open_table(path, limits) -> Table        # raises WorkbookError(message) for the file as a whole
    save_upload(stream, target, limits) -> Path   # copy an upload, stopping at the size limit
    Limits(max_file_bytes=50 MB, max_unpacked_bytes=600 MB, max_entry_ratio=100, max_rows=300_000, …)

The template — ``xueji.records.template``::

    write_template(path_or_buffer, school: SchoolCatalog | None = None, *, rows=TEMPLATE_ROWS, data=()) -> None
        # `xueji template [--school CODE] -o FILE.xlsx` and the download button; data= pre-fills rows.
        # Drop-downs and input hints cover every row of the sheet; the 性别/出生日期 formulas the first `rows`.
"""

from __future__ import annotations
