"""`python -m ugc_svc`: run the UGC service until SIGTERM. Settings come from UGC_* variables."""

import sys

from meshkit.server import main
from ugc_svc.bootstrap import build
from ugc_svc.settings import UgcSettings

if __name__ == "__main__":
    sys.exit(main("ugc", UgcSettings, build, sys.argv[1:]))
