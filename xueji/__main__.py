from __future__ import annotations

import sys

from xueji.cli import main

sys.exit(main())
