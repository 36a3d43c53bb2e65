"""Real engines for the production profile, installed and run by the project itself (no Docker here)."""
