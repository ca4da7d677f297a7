"""`xueji`: the one command-line entry point (serve, demo, worker, load-reference, …)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xueji.settings")
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def cmd_load_reference(args: argparse.Namespace) -> int:
    _setup()
    _migrate()
    from xueji.reference.services import reference_load

    summary = reference_load()
    print(
        f"参考数据已载入：行政区划 {summary.area_codes} 条，专业目录 {summary.majors} 个，"
        f"字典 {summary.code_items} 项，国家和地区 {summary.countries} 个。"
    )
    return 0


def _sweep_stale_imports(every: float) -> None:
    """Runs beside the worker: an import or export whose worker died (killed, host lost) is queued again once
    its heartbeat goes stale (the job's claim makes sure only one worker takes it), and export files older
    than a week are removed (they hold personal data)."""
    import time

    from django.db import close_old_connections

    from xueji.admissions.imports import import_jobs_requeue_stale
    from xueji.ops.workers import worker_heartbeat
    from xueji.reconcile.loadjobs import roster_load_jobs_requeue_stale
    from xueji.roster.packagejobs import package_files_sweep, package_jobs_requeue_stale
    from xueji.students.exports import export_files_sweep, export_jobs_requeue_stale

    while True:
        try:
            worker_heartbeat()
            import_jobs_requeue_stale()
            export_jobs_requeue_stale()
            roster_load_jobs_requeue_stale()
            package_jobs_requeue_stale()
            export_files_sweep()
            package_files_sweep()
        except Exception:  # a database hiccup must not stop the sweep; it is tried again next round
            import logging

            logging.getLogger(__name__).exception("stale import sweep failed")
        finally:
            close_old_connections()
        time.sleep(every)


def cmd_worker(args: argparse.Namespace) -> int:
    import threading

    _setup()
    from django.conf import settings
    from django.core.management import call_command

    every = max(1.0, settings.XUEJI_IMPORT_STALE_SECONDS / 4)
    threading.Thread(target=_sweep_stale_imports, args=(every,), daemon=True, name="stale-imports").start()
    if settings.TASK_BACKEND == "rq":
        call_command("rqworker", "default", job_class="django_tasks_rq.Job")
    else:
        call_command("db_worker", interval=args.interval)
    return 0


def _serve(host: str, port: int, with_worker: bool, threads: int) -> int:
    from django.conf import settings
    from waitress import serve

    from xueji.wsgi import application

    worker = None
    if with_worker and settings.TASK_BACKEND == "db":
        worker = subprocess.Popen([sys.executable, "-m", "xueji", "worker"])
    try:
        print(f"学籍管理系统已启动：http://{host}:{port}/  （Ctrl+C 停止）", flush=True)
        serve(application, host=host, port=port, threads=threads, ident="xueji")
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    _migrate()
    return _serve(args.host, args.port, not args.no_worker, args.threads)


def cmd_demo(args: argparse.Namespace) -> int:
    cmd_load_reference(args)
    from xueji.demo import DEMO_PASSWORD, demo_admissions, demo_seed

    accounts = demo_seed()
    imported = demo_admissions()
    if imported:
        print(f"已为第一所演示学校导入 {imported} 条招生信息（另有2行故意留错，可在“导入名单”下载失败数据）。")
    print(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
    for account in accounts:
        print(f"  {account.role:<8}{account.username:<14}{account.organisation}")
    if args.no_serve:
        return 0
    return _serve(args.host, args.port, True, args.threads)


def cmd_create_city(args: argparse.Namespace) -> int:
    _setup()
    _migrate()
    from django.db import transaction

    from xueji.reference.models import AreaCode
    from xueji.reference.services import reference_load

    if not AreaCode.objects.exists():
        reference_load()

    from xueji.orgs.models import Role, User
    from xueji.orgs.services import city_create, password_generate

    with transaction.atomic():
        city = city_create(code=args.code)
        password = password_generate()
        user = User(username=args.username, role=Role.CITY_ADMIN, region=city, must_change_password=True)
        user.set_password(password)
        user.save()
    print(f"已建立 {city.name} 市级管理员 {user.username}，一次性密码：{password}（首次登录须修改）")
    return 0


def cmd_verify_audit(args: argparse.Namespace) -> int:
    _setup()
    from xueji.audit.services import audit_verify_chain

    report = audit_verify_chain()
    if report.ok:
        print(f"审计日志完整：共 {report.events} 条事件，哈希链校验通过。")
        return 0
    print(f"审计日志被改动：{report.reason}（事件 {report.first_bad_id}）", file=sys.stderr)
    return 1


def _school(code: str):  # type: ignore[no-untyped-def]
    """The school named by --school (Django set up and migrated); a clear refusal for an unknown code."""
    _setup()
    _migrate()
    from django.core.exceptions import ValidationError

    from xueji.orgs.models import School

    school = School.objects.filter(code=code.strip()).first()
    if school is None:
        raise ValidationError(f"学校标识码 {code} 不存在")
    return school


def _school_catalog_for(code: str | None):  # type: ignore[no-untyped-def]
    """The school's catalog for template drop-downs and major/direction checks, or None without --school."""
    if not code:
        return None
    school = _school(code)
    from xueji.orgs.selectors import school_catalog

    return school_catalog(school)


def cmd_template(args: argparse.Namespace) -> int:
    from xueji.records.template import write_template

    write_template(args.output, _school_catalog_for(args.school))
    print(f"已生成导入模板：{args.output}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from xueji.records.check import run_check
    from xueji.records.context import RowContext

    if not os.path.isfile(args.file):
        print(f"无法检查：找不到文件 {args.file}", file=sys.stderr)
        return 2
    ctx = RowContext(school=_school_catalog_for(args.school))
    return run_check(args.file, ctx, json_output=args.json, annotated_out=args.output)


def cmd_import(args: argparse.Namespace) -> int:
    """导入名单 from the command line: the same job, batches and failure workbook as the web, run here."""
    if not os.path.isfile(args.file):
        print(f"无法导入：找不到文件 {args.file}", file=sys.stderr)
        return 2
    school = _school(args.school)
    import shutil

    from django.core.exceptions import ValidationError

    from xueji.admissions.imports import import_failure_path, import_job_create, import_job_run
    from xueji.admissions.models import ImportJob
    from xueji.orgs.models import User
    from xueji.records.workbook import WorkbookError

    actor = None
    if args.user:
        actor = User.objects.filter(username=args.user, school=school).first()
        if actor is None:
            raise ValidationError(f"本校没有账号 {args.user}")
    try:
        with open(args.file, "rb") as stream:
            job = import_job_create(
                actor=actor, school=school, stream=stream, file_name=os.path.basename(args.file), enqueue=False
            )
    except WorkbookError as error:
        print(f"无法导入：{error.message}", file=sys.stderr)
        return 2
    tty = sys.stderr.isatty()

    def progress(job: ImportJob) -> None:
        total = job.total_rows or 0
        done = job.processed_rows
        width = 30
        filled = int(width * done / total) if total else 0
        line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} 行"
        print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    job = import_job_run(job.pk, progress=progress)
    if tty:
        print(file=sys.stderr)
    if job.status == ImportJob.Status.FAILED:
        print(f"导入失败：{job.error_message}", file=sys.stderr)
        return 2
    print(
        f"导入完成：共 {job.total_rows} 行，新增 {job.created_count}，更新 {job.updated_count}，失败 {job.failed_count}"
    )
    if job.failed_count:
        failures = import_failure_path(job)
        target = args.failures or os.path.splitext(args.file)[0] + "-失败数据.xlsx"
        if failures is not None:
            shutil.copyfile(failures, target)
            print(f"失败的行已写入 {target}（最后一列为失败原因），改正后可再次导入该文件", file=sys.stderr)
        return 1
    return 0


def cmd_package(args: argparse.Namespace) -> int:
    """上报盘: `xueji package verify FILE` checks a package as the city's upload does (without logging it)."""
    if not os.path.isfile(args.file):
        print(f"无法核对：找不到文件 {args.file}", file=sys.stderr)
        return 2
    _setup()
    from xueji.roster.filing import package_verify

    result = package_verify(args.file)
    if result.ok and result.scope is not None and result.manifest is not None:
        counts = result.manifest["counts"]["total"]
        print(f"上报盘核对通过：{result.scope.name} {result.manifest['grade']}级，共 {counts} 人。")
    else:
        print(f"上报盘核对未通过：{result.reason}", file=sys.stderr)
    if result.filed_notes:  # beside the verdict, never part of it
        print("与备案记录比对（仅提示，不影响核对结果）：")
        for note in result.filed_notes:
            print(f"  - {note}")
    return 0 if result.ok else 1


def cmd_import_legacy(args: argparse.Namespace) -> int:
    """档案管理: load students exported from the old system as already registered, with their 学籍号."""
    if not os.path.isfile(args.file):
        print(f"无法迁入：找不到文件 {args.file}", file=sys.stderr)
        return 2
    school = _school(args.school)
    from xueji.records.workbook import WorkbookError
    from xueji.students.legacy import legacy_import

    try:
        result = legacy_import(path=args.file, school=school, actor=None)
    except WorkbookError as error:
        print(f"无法迁入：{error.message}", file=sys.stderr)
        return 2
    print(f"迁入完成：{result.loaded} 人，未迁入 {len(result.failed)} 行")
    for row, reason in result.failed:
        print(f"第{row}行：{reason}", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_manage(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["xueji manage", *args.rest])
    return 0


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=os.environ.get("XUEJI_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("XUEJI_PORT", "8000")))
    parser.add_argument("--threads", type=int, default=8)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xueji", description="中等职业学校学籍管理系统")
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
        "serve": (cmd_serve, "启动网页服务和一个后台任务进程"),
        "demo": (cmd_demo, "载入参考数据和演示数据，然后启动"),
        "worker": (cmd_worker, "运行后台任务进程（数据库队列）"),
        "load-reference": (cmd_load_reference, "载入行政区划、专业目录、字典和国家地区（可重复执行）"),
        "create-city": (cmd_create_city, "建立一个市及其市级管理员账号"),
        "template": (cmd_template, "生成招生导入模板（xlsx）"),
        "check": (cmd_check, "检查一个招生信息文件（不导入）；有错误时退出码为1，文件无法检查为2"),
        "import": (cmd_import, "导入招生名单（与网页“导入名单”相同）；有失败行时退出码为1，文件无法导入为2"),
        "import-legacy": (
            cmd_import_legacy,
            "档案管理：迁入原系统导出的在校生（已注册，保留学籍号）；有未迁入的行时退出码为1",
        ),
        "verify-audit": (cmd_verify_audit, "校验审计日志哈希链"),
        "audit": (cmd_verify_audit, "审计日志：xueji audit verify 校验哈希链（同 verify-audit）"),
        "package": (cmd_package, "上报盘：xueji package verify FILE 核对一个上报盘，通过退出码为0，不通过为1"),
        "manage": (cmd_manage, "执行 Django 管理命令（migrate、createsuperuser 等）"),
    }
    parsers = {}
    for name, (func, help_text) in commands.items():
        parsers[name] = sub.add_parser(name, help=help_text, description=help_text)
        parsers[name].set_defaults(func=func)
    _add_server_options(parsers["serve"])
    parsers["serve"].add_argument("--no-worker", action="store_true", help="不在本进程旁启动后台任务进程")
    _add_server_options(parsers["demo"])
    parsers["demo"].add_argument("--no-serve", action="store_true", help="只准备数据，不启动服务")
    parsers["worker"].add_argument("--interval", type=float, default=1.0, help="空闲时查询新任务的间隔（秒）")
    parsers["create-city"].add_argument("code", help="市的行政区划代码，如 110000")
    parsers["create-city"].add_argument("--username", default="city")
    parsers["manage"].add_argument("rest", nargs=argparse.REMAINDER)
    parsers["template"].add_argument("--school", help="学校标识码：专业、方向、年级、班级做成下拉选项")
    parsers["template"].add_argument("-o", "--output", required=True, help="输出文件，如 模板.xlsx")
    parsers["check"].add_argument("file", help="xlsx、xls、ods 或 csv 文件")
    parsers["check"].add_argument("--school", help="学校标识码：专业和方向按本校设置检查")
    parsers["check"].add_argument("--json", action="store_true", help="以 JSON 输出检查结果")
    parsers["check"].add_argument("-o", "--output", help="写出标注后的文件（xlsx），最后一列为失败原因")
    parsers["audit"].add_argument("what", choices=["verify"], help="verify：校验哈希链，事件被改动或删除时退出码为1")
    parsers["package"].add_argument("what", choices=["verify"], help="verify：核对上报盘")
    parsers["package"].add_argument("file", help="上报盘 zip 文件")
    parsers["import-legacy"].add_argument("file", help="原系统导出的 xlsx、xls、ods 或 csv 文件")
    parsers["import-legacy"].add_argument("--school", required=True, help="学校标识码")
    parsers["import"].add_argument("file", help="xlsx、xls、ods 或 csv 文件")
    parsers["import"].add_argument("--school", required=True, help="学校标识码")
    parsers["import"].add_argument("--user", help="记为导入人的本校账号（默认记为“命令行”）")
    parsers["import"].add_argument("--failures", help="失败数据文件的保存位置（默认：原文件名-失败数据.xlsx）")
    from xueji.ops.commands import add_parsers as add_operations_parsers

    add_operations_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Exception as error:
        # A refused operation is reported as its message, not a traceback.
        from django.core.exceptions import ValidationError

        if isinstance(error, ValidationError):
            print("；".join(error.messages), file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
