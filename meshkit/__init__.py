"""Shared floor of every cinemesh service: settings, logs, errors and the gRPC server bootstrap."""
