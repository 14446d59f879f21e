"""`python -m serving predict|serve ...`: the serving sub-commands without the rest of
`snout` (same code as `snout predict` / `snout serve`)."""

import sys

from serving.cli import main

sys.exit(main())
