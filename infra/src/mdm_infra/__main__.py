import sys

from mdm_infra.cli import main

sys.exit(main())
