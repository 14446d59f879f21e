"""`python -m cli ...`: the `snout` command without its console script (e.g. `python -m cli serve`)."""

import sys

from cli.main import main

sys.exit(main())
