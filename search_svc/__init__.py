"""Movie search: catalogue listing, full-text search, movie cards and client info."""
