"""`xueji doctor`: one line per check (正常 / 警告 / 错误) for the IT staff; exit 1 when any check is 错误.

Each check is a function returning a `Finding`; an exception inside a check is itself reported as 错误, so one
broken part (the database down) never hides the rest of the report.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection
from django.utils import timezone


class Status(StrEnum):
    OK = "正常"
    WARNING = "警告"
    ERROR = "错误"


@dataclass(frozen=True)
class Finding:
    status: Status
    name: str
    detail: str


GIB = 1024**3
DISK_ERROR_BYTES = 1 * GIB
DISK_WARNING_BYTES = 5 * GIB
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
# `check --deploy` findings about TLS: reported once, by the HTTPS check, not again as deploy warnings.
_TLS_CHECKS = {"security.W004", "security.W008", "security.W012", "security.W016"}


def check_debug() -> Finding:
    if settings.DEBUG:
        return Finding(
            Status.ERROR, "调试模式", "XUEJI_DEBUG=1：出错页面会显示数据和配置，生产环境必须关闭（去掉 XUEJI_DEBUG）"
        )
    return Finding(Status.OK, "调试模式", "已关闭")


def check_secret_key() -> Finding:
    if os.environ.get("XUEJI_SECRET_KEY_FILE"):
        source = f"来自文件 {os.environ['XUEJI_SECRET_KEY_FILE']}（XUEJI_SECRET_KEY_FILE）"
    elif os.environ.get("XUEJI_SECRET_KEY"):
        source = "来自环境变量 XUEJI_SECRET_KEY"
    else:
        source = (
            f"数据目录中生成的 {Path(settings.DATA_DIR) / 'secret_key'}"
            "（仅适合单机；多台主机须设置同一个 XUEJI_SECRET_KEY）"
        )
    key = settings.SECRET_KEY
    if len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-"):
        return Finding(Status.ERROR, "密钥", f"{source}，但太短或太简单：至少 50 个字符的随机串")
    return Finding(Status.OK, "密钥", source)


def check_allowed_hosts() -> Finding:
    hosts = list(settings.ALLOWED_HOSTS)
    if "*" in hosts:
        return Finding(Status.ERROR, "允许的主机", "XUEJI_ALLOWED_HOSTS 含 *：任何主机名都会被接受，请列出本站域名")
    if set(hosts) <= _LOCAL_HOSTS:
        return Finding(Status.WARNING, "允许的主机", "只允许本机访问；对外服务请在 XUEJI_ALLOWED_HOSTS 中列出本站域名")
    return Finding(Status.OK, "允许的主机", "、".join(hosts))


def check_https() -> Finding:
    if not settings.HTTPS:
        if set(settings.ALLOWED_HOSTS) <= _LOCAL_HOSTS:
            return Finding(Status.OK, "HTTPS", "未启用（只在本机访问）")
        return Finding(
            Status.WARNING,
            "HTTPS",
            "未启用：密码和学生信息以明文传输。"
            "在 TLS 代理（如 nginx）之后运行并设置 XUEJI_HTTPS=1、XUEJI_BEHIND_PROXY=1",
        )
    proxy = "信任代理的 X-Forwarded-Proto" if settings.SECURE_PROXY_SSL_HEADER else "未设置 XUEJI_BEHIND_PROXY"
    return Finding(Status.OK, "HTTPS", f"已启用：安全 Cookie、HSTS {settings.SECURE_HSTS_SECONDS} 秒；{proxy}")


def check_deploy() -> Finding:
    from django.core import checks

    issues = [
        message
        for message in checks.run_checks(include_deployment_checks=True)
        if message.level >= checks.WARNING and not message.is_silenced() and message.id not in _TLS_CHECKS
    ]
    if not issues:
        return Finding(Status.OK, "部署检查", "check --deploy 没有发现问题")
    worst = Status.ERROR if any(message.level >= checks.ERROR for message in issues) else Status.WARNING
    listed = "；".join(f"{message.id}：{message.msg.splitlines()[0]}" for message in issues[:3])
    return Finding(worst, "部署检查", f"{len(issues)} 项：{listed}（xueji manage check --deploy 查看全部）")


def check_database() -> Finding:
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        version = connection.pg_version  # type: ignore[attr-defined]
        what = f"PostgreSQL {version // 10000}.{version % 100}，数据库 {connection.settings_dict['NAME']}"
    else:
        what = f"SQLite {sqlite3.sqlite_version}，{connection.settings_dict['NAME']}"
    return Finding(Status.OK, "数据库", f"可以连接：{what}")


def check_migrations() -> Finding:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        first = plan[0][0]
        return Finding(
            Status.ERROR,
            "数据库迁移",
            f"{len(plan)} 个迁移未执行（如 {first.app_label}.{first.name}）：运行 xueji manage migrate",
        )
    applied = set(executor.loader.applied_migrations)
    unknown = sorted(applied - set(executor.loader.disk_migrations))
    if unknown:
        app, name = unknown[0]
        return Finding(
            Status.WARNING, "数据库迁移", f"数据库含本版本没有的迁移 {app}.{name}：数据库来自较新的版本，请升级程序"
        )
    return Finding(Status.OK, "数据库迁移", f"已全部执行（{len(applied)} 个）")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _oldest_waiting_db() -> tuple[int, dt.datetime | None]:
    from django_tasks_db.models import DBTaskResult

    ready = DBTaskResult.objects.ready()
    oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    return ready.count(), oldest


def _oldest_waiting_rq() -> tuple[int, dt.datetime | None]:
    import django_rq
    from rq.job import Job

    queue = django_rq.get_queue("default")
    queue.connection.ping()
    ids = queue.get_job_ids(0, 0)
    job = Job.fetch(ids[0], connection=queue.connection) if ids else None
    oldest = job.enqueued_at if job is not None else None
    if oldest is not None and timezone.is_naive(oldest):
        oldest = timezone.make_aware(oldest, dt.UTC)
    return queue.count, oldest


def check_workers() -> Finding:
    from xueji.ops.workers import workers_alive

    backend = settings.TASK_BACKEND
    if backend == "immediate":
        return Finding(Status.WARNING, "后台任务", "XUEJI_TASK_BACKEND=immediate：任务在请求中直接执行，只用于测试")
    if backend == "rq":
        try:
            waiting, oldest = _oldest_waiting_rq()
        except Exception as error:
            return Finding(Status.ERROR, "后台任务", f"无法连接 Redis {_without_password(settings.REDIS_URL)}：{error}")
        queue = f"Redis 队列（{_without_password(settings.REDIS_URL)}）"
    else:
        waiting, oldest = _oldest_waiting_db()
        queue = "数据库队列"
    workers = workers_alive()
    long_wait = oldest is not None and timezone.now() - oldest > dt.timedelta(seconds=settings.XUEJI_TASK_WAIT_SECONDS)
    minutes = settings.XUEJI_TASK_WAIT_SECONDS // 60
    if not workers:
        if long_wait:
            return Finding(
                Status.ERROR,
                "后台任务",
                f"没有在运行的后台任务进程，{waiting} 个任务在{queue}中等待"
                f"（最久超过 {minutes} 分钟）：运行 xueji worker",
            )
        return Finding(
            Status.WARNING,
            "后台任务",
            f"最近 {settings.XUEJI_WORKER_SILENT_SECONDS} 秒没有后台任务进程报到：导入、导出不会执行。"
            "运行 xueji worker（xueji serve 会同时启动一个）",
        )
    hosts = "、".join(sorted({beat.worker.rsplit(":", 1)[0] for beat in workers}))
    if long_wait:
        return Finding(
            Status.WARNING,
            "后台任务",
            f"{len(workers)} 个任务进程在运行（{hosts}），但有任务已等待超过 {minutes} 分钟"
            f"（共 {waiting} 个排队）：任务进程可能不够或卡住",
        )
    return Finding(Status.OK, "后台任务", f"{len(workers)} 个任务进程在运行（{hosts}），{queue}排队 {waiting} 个")


def check_disk() -> Finding:
    data_dir = Path(settings.DATA_DIR)
    try:
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-"):
            pass
    except OSError as error:
        return Finding(Status.ERROR, "磁盘空间", f"数据目录 {data_dir} 不可写：{error}")
    usage = shutil.disk_usage(data_dir)
    free_gib = usage.free / GIB
    share = usage.free / usage.total if usage.total else 0
    detail = f"数据目录 {data_dir} 剩余 {free_gib:.1f} GiB（{share:.0%}）"
    if usage.free < DISK_ERROR_BYTES:
        return Finding(Status.ERROR, "磁盘空间", f"{detail}：导入、导出和备份会失败，请立即清理或扩容")
    if usage.free < DISK_WARNING_BYTES or share < 0.10:
        return Finding(Status.WARNING, "磁盘空间", f"{detail}：空间不多，请安排清理或扩容")
    return Finding(Status.OK, "磁盘空间", detail)


def _font_problem(path: str) -> str | None:
    try:
        with open(path, "rb") as font:
            magic = font.read(4)
    except OSError as error:
        return f"{path} 无法读取（{error.strerror or error}）"
    if magic == b"OTTO":
        return f"{path} 是 OpenType/CFF 字体，ReportLab 无法嵌入，请换用 TrueType 字体"
    if magic not in (b"\x00\x01\x00\x00", b"ttcf", b"true"):
        return f"{path} 不是 TrueType 字体"
    return None


def check_fonts() -> Finding:
    fonts = list(settings.XUEJI_PDF_FONTS)
    if not fonts:
        return Finding(Status.ERROR, "PDF 字体", "XUEJI_PDF_FONTS 为空：新生名单无法生成")
    main = _font_problem(fonts[0])
    if main:
        return Finding(
            Status.ERROR,
            "PDF 字体",
            f"{main}：新生名单无法生成（Debian：apt install fonts-wqy-microhei fonts-hanazono）",
        )
    missing = [problem for problem in map(_font_problem, fonts[1:]) if problem]
    if missing:
        return Finding(Status.WARNING, "PDF 字体", f"{'；'.join(missing)}：名字中的生僻字可能显示为空白")
    return Finding(Status.OK, "PDF 字体", f"{len(fonts)} 个字体文件可用")


def check_audit() -> Finding:
    from xueji.audit.services import audit_verify_chain

    report = audit_verify_chain()
    if not report.ok:
        event = f"（事件 {report.first_bad_id}）" if report.first_bad_id else ""
        return Finding(Status.ERROR, "审计日志", f"哈希链校验未通过：{report.reason}{event}")
    return Finding(Status.OK, "审计日志", f"哈希链完整，共 {report.events} 条事件")


CHECKS: list[tuple[str, Callable[[], Finding], bool]] = [
    # (name, check, needs the database)
    ("调试模式", check_debug, False),
    ("密钥", check_secret_key, False),
    ("允许的主机", check_allowed_hosts, False),
    ("HTTPS", check_https, False),
    ("部署检查", check_deploy, False),
    ("数据库", check_database, True),
    ("数据库迁移", check_migrations, True),
    ("后台任务", check_workers, True),
    ("磁盘空间", check_disk, False),
    ("PDF 字体", check_fonts, False),
    ("审计日志", check_audit, True),
]


def doctor_run() -> list[Finding]:
    findings: list[Finding] = []
    database_up = True
    for name, check, needs_database in CHECKS:
        if needs_database and not database_up:
            findings.append(Finding(Status.ERROR, name, "未检查：数据库无法连接"))
            continue
        try:
            finding = check()
        except Exception as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            finding = Finding(Status.ERROR, name, f"检查失败：{message}")
        if check is check_database and finding.status is Status.ERROR:
            database_up = False
        findings.append(finding)
    return findings
