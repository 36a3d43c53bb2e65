"""`python -m sink_svc`: run the sink until SIGTERM. Settings come from SINK_* variables."""

import sys

from meshkit.server import main
from sink_svc.bootstrap import build
from sink_svc.settings import SinkSettings

if __name__ == "__main__":
    sys.exit(main("sink", SinkSettings, build, sys.argv[1:]))
