"""The `xueji backup`, `xueji restore` and `xueji doctor` commands (registered by xueji/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _setup() -> None:
    from xueji.cli import _setup as setup

    setup()


def cmd_backup(args: argparse.Namespace) -> int:
    _setup()
    from xueji.ops.backup import BackupError, backup_create, backup_default_name

    out = Path(args.out)
    if out.is_dir():
        out = out / backup_default_name()
    try:
        summary = backup_create(out=out)
    except BackupError as error:
        print(f"备份失败：{error.message}", file=sys.stderr)
        return 1
    size = summary.size / 1024 / 1024
    print(f"已备份到 {summary.path}（{size:.1f} MB；数据库 {summary.vendor}，上传文件 {summary.files} 个）")
    print("备份文件含全部学生个人信息：请加密保存、限制访问，并定期做恢复演练（xueji restore --check）。")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    _setup()
    from xueji.ops.backup import BackupError
    from xueji.ops.restore import restore_archive

    archive = Path(args.archive)
    if not args.check and not args.yes:
        if not sys.stdin.isatty():
            print("恢复会用备份替换当前的全部数据和上传文件：确认无误后加 --yes 再运行", file=sys.stderr)
            return 2
        answer = input(f"用 {archive} 替换当前的全部数据和上传文件？输入 yes 确认：")
        if answer.strip().lower() != "yes":
            print("已取消，没有改动任何数据。", file=sys.stderr)
            return 2
    try:
        summary = restore_archive(archive=archive, check_only=args.check)
    except BackupError as error:
        print(f"无法恢复：{error.message}", file=sys.stderr)
        return 1
    made = (
        f"（{summary.created_at} 由版本 {summary.xueji_version} 生成，"
        f"数据库 {summary.vendor}，上传文件 {summary.files} 个）"
    )
    if not summary.restored:
        print(f"备份文件完整，可以恢复{made}")
        return 0
    print(f"已恢复{made}")
    if summary.pending_migrations:
        print(f"备份来自较早的版本：已执行 {len(summary.pending_migrations)} 个数据库迁移。")
    print("请重新启动网页服务和后台任务进程。")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    _setup()
    from xueji.ops.doctor import Status, doctor_run

    findings = doctor_run()
    if args.json:
        print(json.dumps([f.__dict__ for f in findings], ensure_ascii=False, indent=1))
    else:
        for finding in findings:
            print(f"{finding.status.value}  {finding.name}：{finding.detail}")
    return 1 if any(finding.status is Status.ERROR for finding in findings) else 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    backup = sub.add_parser(
        "backup",
        help="备份数据库和上传文件到一个文件（服务运行时也可以）",
        description="备份数据库（SQLite 在线备份或 pg_dump）和数据目录中的上传文件，附清单和 SHA-256 校验值",
    )
    backup.add_argument("out", help="输出文件（如 /srv/backup/xueji.tar.gz），或一个目录（自动按时间命名）")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser(
        "restore",
        help="从备份文件恢复数据库和上传文件（先完整校验；失败时保持原状）",
        description="从 xueji backup 生成的文件恢复。先校验全部内容，再一次替换；任何一步失败都保持原状",
    )
    restore.add_argument("archive", help="xueji backup 生成的文件")
    restore.add_argument("--check", action="store_true", help="只校验备份文件是否完整、能否恢复，不改动数据")
    restore.add_argument("--yes", action="store_true", help="不再询问确认（用于脚本）")
    restore.set_defaults(func=cmd_restore)
    doctor = sub.add_parser(
        "doctor",
        help="检查配置、数据库、后台任务、磁盘、字体和审计日志；有错误时退出码为1",
        description="逐项检查运行状况，每项一行：正常、警告或错误；有错误时退出码为1",
    )
    doctor.add_argument("--json", action="store_true", help="以 JSON 输出")
    doctor.set_defaults(func=cmd_doctor)
