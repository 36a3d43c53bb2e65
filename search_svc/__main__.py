"""`python -m search_svc`: run the search service until SIGTERM. Settings come from SEARCH_* variables."""

import sys

from meshkit.server import main
from search_svc.bootstrap import build
from search_svc.settings import SearchSettings

if __name__ == "__main__":
    sys.exit(main("search", SearchSettings, build, sys.argv[1:]))
