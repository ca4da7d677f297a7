from __future__ import annotations

import subprocess
import sys


def test_records_package_imports_and_runs_without_django():
    code = (
        "import sys\n"
        "import xueji.records.check, xueji.records.template, xueji.records.validator\n"
        "from xueji.records.context import RowContext\n"
        "xueji.records.validator.validate_row({'name': '张三'}, RowContext())\n"
        "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')], 'django imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"PATH": "/usr/bin:/bin"}, cwd=".")
